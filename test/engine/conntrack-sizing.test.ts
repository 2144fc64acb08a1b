import { describe, expect, it } from "vitest";
import { kernelAutoDefault, nextPow2, roundUp512, sizingEra } from "../../src/engine/lib/conntrack-sizing.js";
import { parseKernelRelease } from "../../src/parsers/kernel-version.js";

const K = (r: string) => parseKernelRelease(r)!;
const GiB = 1024 ** 3;

describe("kernel default conntrack sizing by version (kernel-facts §2)", () => {
  it.each([
    ["2.6.18-419.el5", 4 * GiB, "ip_conntrack", 8192, 65536],
    ["3.10.0-1160.el7.x86_64", 8 * GiB, "2.6.24-3.19", 16384, 65536],
    ["4.19.0-27-amd64", 16 * GiB, "4.0-5.14", 65536, 262144],
    ["4.19.0-27-amd64", 2 * GiB, "4.0-5.14", 16384, 65536],
    ["5.15.0-91-generic", 16 * GiB, "5.15+", 262144, 262144],
    ["6.1.0-56-amd64", 2060406784, "5.15+", 65536, 65536],
  ] as const)("%s with %d bytes → era %s, buckets %d, max %d", (rel, mem, era, buckets, max) => {
    const d = kernelAutoDefault(mem, K(rel));
    expect(sizingEra(K(rel))).toBe(era);
    expect(d.buckets).toBe(buckets);
    expect(d.max).toBe(max);
  });

  it("real 6.1 guest (MemTotal 983744 kB): RAM/131072 rounded up to 512 → 8192/8192, as observed in samples/soundcloud-62", () => {
    expect(kernelAutoDefault(983744 * 1024, K("6.1.0-56-amd64"))).toMatchObject({ buckets: 8192, max: 8192, ratio: 1, expectMax: 32 });
  });

  it("3.x–4.6 computes max from the unrounded buckets (banner 7933 → sysctl 8192, max 31732)", () => {
    const mem = 7933 * 131072;
    expect(kernelAutoDefault(mem, K("3.10.0-1160.el7.x86_64"))).toMatchObject({ buckets: 8192, max: 31732 });
    expect(kernelAutoDefault(mem, K("4.19.0-27-amd64"))).toMatchObject({ buckets: 8192, max: 32768 });
  });

  it("tiny 5.15+ host: minimum 1024", () => {
    expect(kernelAutoDefault(64 * 1024 * 1024, K("6.18.44-fc-v669"))).toMatchObject({ buckets: 1024, max: 1024 });
  });

  it("rounding helpers", () => {
    expect(roundUp512(7933)).toBe(8192);
    expect(nextPow2(15000)).toBe(16384);
    expect(nextPow2(65536)).toBe(65536);
  });
});
