import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/ipset-oversized.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("ipset-oversized", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      full: "samples/ipset-full/bundle.tar.gz",
      unused: "test/fixtures/bundles/rules-ipset-unused",
      healthy: "samples/healthy/bundle.tar.gz",
    }))
      r[k] = await run(p);
  });

  it("real 6.1: blocklist full at maxelem 64, kernel and ipset messages, swap to a bigger set", () => {
    expect(r.full).toHaveLength(1);
    const f = r.full![0]!;
    expect(f.title).toBe("IP set blocklist is full");
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ set: "blocklist", entries: 64, maxelem: 64, references: 1, proposedMaxelem: 65536 });
    const k = f.evidence.find((e) => e.highlight === "Set blocklist is full")!;
    expect(k.path).toMatch(/commands\/dmesg$/);
    expect(k.text).toBe("[   10.059355] Set blocklist is full, maxelem 64 reached");
    const u = f.evidence.find((e) => e.highlight === "Hash is full")!;
    expect(u.path).toMatch(/files\/var\/log\/syslog$/);
    expect(u.text).toContain("blocklist-update: ipset v7.17: Error in line 65: Hash is full, cannot add more elements");
    expect(f.evidence.some((e) => e.text === "Number of entries: 64" && e.line === 7)).toBe(true);
    const fix = f.fixes[0]!;
    expect(fix.commands).toEqual([
      "ipset save blocklist > /root/ipset-blocklist.before",
      "ipset create blocklist-nfdiag hash:ip family inet hashsize 1024 maxelem 65536",
      "ipset save blocklist | sed -n 's/^add blocklist /add blocklist-nfdiag /p' | ipset restore",
      "ipset swap blocklist blocklist-nfdiag",
      "ipset destroy blocklist-nfdiag",
      "# then re-run the update that failed (it stopped at the first address over the limit)",
    ]);
    expect(fix.persist[0]).toBe("ipset save > /etc/iptables/ipsets");
  });

  it("real lab listing: a set with References: 0 that no rule names is unused (low)", () => {
    const ports = r.unused!.find((f) => f.metrics.set === "ports")!;
    expect(ports.severity).toBe("low");
    expect(ports.metrics.unused).toBe(true);
    const ev = ports.evidence.find((e) => e.text === "References: 0")!;
    expect(ev.path).toMatch(/commands\/ipset_list_-t$/);
    expect(ev.line).toBe(22);
    expect(ports.fixes[0]!.commands).toContain("ipset destroy ports");
    // Sets used by rules are not reported.
    expect(r.unused!.some((f) => f.metrics.set === "blocklist" || f.metrics.set === "nets")).toBe(false);
  });

  it("silent on a healthy bundle", () => {
    expect(r.healthy).toEqual([]);
  });
});
