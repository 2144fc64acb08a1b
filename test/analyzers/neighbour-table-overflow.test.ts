import { beforeAll, describe, expect, it } from "vitest";
import { analyzer, raisedThresholds } from "../../analyzers/neighbour-table-overflow.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("neighbour-table-overflow", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      neigh: "samples/neighbour-overflow/bundle.tar.gz",
      mixed: "samples/mixed-table-full-neighbour/bundle.tar.gz",
      old: "test/fixtures/bundles/rules-neigh-3.10",
      healthy: "samples/healthy/bundle.tar.gz",
      tableFull: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    }))
      r[k] = await run(p);
  });

  it("real 6.1: arp_cache overflow with gc_thresh 8/16/32, raised back to at least the defaults", () => {
    const f = r.neigh![0]!;
    expect(f.metrics["ipv4.gc_thresh3"]).toBe(32);
    expect(f.metrics["ipv4.proposed"]).toBe("128/512/1024");
    const ev = f.evidence[0]!;
    expect(ev.source).toBe("dmesg");
    expect(ev.path).toMatch(/commands\/dmesg$/);
    expect(ev.text).toMatch(/neighbour: arp_cache: neighbor table overflow!$/);
    expect(ev.highlight).toBe("neighbor table overflow");
    const th = f.evidence.find((e) => e.text === "net.ipv4.neigh.default.gc_thresh3 = 32")!;
    expect(th.path).toMatch(/commands\/sysctl_-a$/);
    const fix = f.fixes[0]!;
    expect(fix.commands[0]).toBe("sysctl -w net.ipv4.neigh.default.gc_thresh1=128 net.ipv4.neigh.default.gc_thresh2=512 net.ipv4.neigh.default.gc_thresh3=1024");
    expect(fix.persist[0]).toContain("/etc/sysctl.d/90-neighbour.conf");
    expect(fix.rollback[0]).toBe("sysctl -w net.ipv4.neigh.default.gc_thresh1=8 net.ipv4.neigh.default.gc_thresh2=16 net.ipv4.neigh.default.gc_thresh3=32");
  });

  it("real mixed bundle (table full + neighbour overflow): reported separately, never as a conntrack problem", () => {
    expect(r.mixed).toHaveLength(1);
    const f = r.mixed![0]!;
    expect(f.summary).toMatch(/not the conntrack table/);
    // The shared net_ratelimit summary does not inflate the severity.
    expect(f.severity).toBe("medium");
    expect(f.summary).toMatch(/10 logged times \(up to \d+ with rate-limited copies, shared with the conntrack messages\)/);
    expect(f.mechanism).toMatch(/separate from nf_conntrack: raising nf_conntrack_max does nothing/);
    expect(f.evidence.every((e) => !/table full, dropping packet/.test(e.text))).toBe(true);
    expect(f.fixes.every((x) => x.commands.every((c) => !c.includes("nf_conntrack")))).toBe(true);
  });

  it("3.10 `ipv4: Neighbour table overflow.` with net_ratelimit suppressed counts; defaults ×4", () => {
    const f = r.old![0]!;
    expect(f.metrics).toMatchObject({ overflowMessages: 3, suppressed: 41, occurrences: 44, "ipv4.proposed": "512/2048/4096" });
    expect(f.evidence[0]).toMatchObject({ source: "dmesg", line: 2, text: "[ 2000.500000] ipv4: Neighbour table overflow.", highlight: "Neighbour table overflow" });
    expect(f.evidence.some((e) => e.text === "[ 2005.000000] net_ratelimit: 41 callbacks suppressed")).toBe(true);
  });

  it("thresholds stay ordered 1 < 2 < 3", () => {
    for (const cur of [[8, 16, 32], [128, 512, 1024], [1024, 1024, 1024], [4096, 2048, 1024], [undefined, undefined, 20000]]) {
      const [a, b, c] = raisedThresholds(cur);
      expect(a).toBeLessThan(b);
      expect(b).toBeLessThan(c);
    }
  });

  it("silent on a healthy bundle and on a conntrack-only table full", () => {
    expect(r.healthy).toEqual([]);
    expect(r.tableFull).toEqual([]);
  });
});
