import { mkdir, mkdtemp, rm, copyFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-memory-pressure.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];
const r: Record<string, DetectedFinding[]> = {};

/** The derived old-kernel log: its allocation failure runs through xt_alloc_table_info (rule set, not conntrack). */
async function xtablesBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-mem-"));
  tmp.push(dir);
  await mkdir(join(dir, "commands"), { recursive: true });
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ collector: "nfdiag-collect", manifest_version: 1, kernel: "4.19.0-27-amd64", samples: [], commands: [], files: [] }));
  await writeFile(join(dir, "commands/uname_-a"), "Linux h 4.19.0-27-amd64 #1 SMP Debian 4.19.316-1 x86_64 GNU/Linux\n");
  await copyFile("test/fixtures/kernel-log/derived-old-kernels.txt", join(dir, "commands/dmesg"));
  return dir;
}

beforeAll(async () => {
  const cases: Record<string, string | Promise<string>> = {
    mem: "test/fixtures/bundles/ct-5.15-memory-pressure",
    xt: xtablesBundle(),
    sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    near: "samples/near-capacity/bundle.tar.gz",
    healthy: "samples/healthy/bundle.tar.gz",
  };
  await Promise.all(Object.entries(cases).map(async ([k, p]) => (r[k] = await run(await p))));
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-memory-pressure", () => {
  it("5.15 derived: GFP_ATOMIC failure through __nf_conntrack_alloc, drop rising 20/s below max, MemAvailable 2 %, OOM kill", () => {
    expect(r.mem).toHaveLength(1);
    const f = r.mem![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ allocFailures: 1, oomKills: 2, dropsPerSecond: 20, count: 40000, max: 262144 });
    const fail = f.evidence.find((e) => e.line === 3);
    expect(fail?.path).toMatch(/commands\/dmesg$/);
    expect(fail?.text).toBe("[ 3301.000100] swapper/1: page allocation failure: order:0, mode:0xa20(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0");
    expect(fail?.highlight).toBe("page allocation failure");
    const trace = f.evidence.find((e) => e.line === 13);
    expect(trace?.highlight).toBe("__nf_conntrack_alloc");
    expect(f.evidence.some((e) => e.source === "meminfo" && e.text.includes("MemAvailable"))).toBe(true);
    expect(f.fixes[0]?.commands).toContain("slabtop -o -s c | head -15");
    // 262144 × (256 + 8) B = 66 MiB fits in 5 % of 4 GiB: no "lower the max" fix.
    expect(f.fixes).toHaveLength(1);
    expect(f.metrics.maxFittingFivePercent).toBe(813056);
  });

  it("an allocation failure through x_tables (iptables rule set) is not conntrack memory pressure", () => {
    expect(r.xt).toEqual([]);
  });

  it("silent on real bundles without memory trouble (sos table full, near-capacity, healthy)", () => {
    expect(r.sos).toEqual([]);
    expect(r.near).toEqual([]);
    expect(r.healthy).toEqual([]);
  });
});
