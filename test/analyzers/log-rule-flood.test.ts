import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/log-rule-flood.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("log-rule-flood", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      flood: "samples/log-flood/bundle.tar.gz",
      healthy: "samples/healthy/bundle.tar.gz",
      sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
      big: "test/fixtures/bundles/rules-enomem-4.19",
    }))
      r[k] = await run(p);
  });

  it("real 6.1 flood: unlimited LOG rule on INPUT, 1,500 lines, ring buffer all LOG lines", () => {
    expect(r.flood).toHaveLength(1);
    const f = r.flood![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ unlimitedLogRules: 1, logPacketLines: 1500, ringBufferOverwritten: true, topPrefix: "INPUT-UDP:", rulePackets: 1500, logPacketShare: 1 });
    expect(f.summary).toMatch(/older evidence lost/);
    const rule = f.evidence.find((e) => e.source === "iptables-nft-save")!;
    expect(rule).toMatchObject({ line: 7, text: '-A INPUT -p udp -m udp --dport 5140 -j LOG --log-prefix "INPUT-UDP: "', highlight: "-j LOG" });
    expect(rule.path).toMatch(/commands\/iptables-nft-save$/);
    const counters = f.evidence.find((e) => e.source === "nft-ruleset")!;
    expect(counters.text).toContain("counter packets 1500 bytes 57000 log prefix");
    const ring = f.evidence.find((e) => e.source === "dmesg")!;
    expect(ring.line).toBe(1);
    expect(ring.note).toMatch(/not at boot, and 100% of its 682 messages are LOG lines/);
    const line = f.evidence.find((e) => e.source === "kernel-log")!;
    expect(line.path).toMatch(/files\/var\/log\/kern\.log$/);
    expect(line.text).toContain("INPUT-UDP: IN=lo OUT=");
  });

  it("fix: -R of the exact rule with -m limit, rollback restores it", () => {
    const fix = r.flood![0]!.fixes[0]!;
    expect(fix.commands).toContain('iptables-nft -t filter -R INPUT 2 -p udp -m udp --dport 5140 -m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix "INPUT-UDP: "');
    expect(fix.rollback).toEqual(['iptables-nft -t filter -R INPUT 2 -p udp -m udp --dport 5140 -j LOG --log-prefix "INPUT-UDP: "']);
    expect(fix.persist[0]).toMatch(/\/etc\/iptables\/rules\.v4/);
    expect(r.flood![0]!.fixes.some((x) => /NFLOG and ulogd/.test(x.title))).toBe(true);
  });

  it("silent when LOG rules are rate-limited (real sos listing and nft) and on a healthy bundle", () => {
    expect(r.healthy).toEqual([]);
    expect(r.sos).toEqual([]);
    expect(r.big).toEqual([]);
  });
});
