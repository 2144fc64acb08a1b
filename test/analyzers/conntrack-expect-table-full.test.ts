import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-expect-table-full.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const r: Record<string, DetectedFinding[]> = {};
beforeAll(async () => {
  const cases = { expect: "samples/expect-table-full/bundle.tar.gz", sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz", healthy: "samples/healthy/bundle.tar.gz", udp: "samples/table-full-udp-earlydrop/bundle.tar.gz" };
  await Promise.all(Object.entries(cases).map(async ([k, p]) => (r[k] = await run(p))));
});

describe("conntrack-expect-table-full", () => {
  it("real expect-table-full sample (6.1): 40 lines + 122 suppressed, expect_max 4 vs default 32, ftp helper via CT --helper", () => {
    expect(r.expect).toHaveLength(1);
    const f = r.expect![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ logLines: 40, logSuppressed: 122, logTotal: 162, expectMax: 4, defaultExpectMax: 32, helperControlFlows: 12, recommendedExpectMax: 32 });
    const first = f.evidence[0]!;
    expect(first.source).toBe("dmesg");
    expect(first.path).toMatch(/commands\/dmesg$/);
    expect(first.text).toMatch(/^\[\s*[\d.]+\] nf_conntrack: expectation table full$/);
    expect(first.highlight).toBe("expectation table full");
    expect(f.evidence.find((e) => e.text === "net.netfilter.nf_conntrack_expect_max = 4")?.line).toBe(778);
    expect(f.evidence.some((e) => e.highlight === "nf_conntrack_ftp")).toBe(true);
    expect(f.summary).toMatch(/helpers \(ftp\)|helpers \(.*ftp.*\)/);
    expect(f.summary).toMatch(/main conntrack table is not involved/);
    expect(f.fixes[0]?.commands[0]).toMatch(/^sysctl -w net\.netfilter\.nf_conntrack_expect_max=32 /);
  });

  it("never fires for a main-table overflow or a healthy host", () => {
    expect(r.sos).toEqual([]);
    expect(r.udp).toEqual([]);
    expect(r.healthy).toEqual([]);
  });
});
