import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-timeouts-long.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const r: Record<string, DetectedFinding[]> = {};
beforeAll(async () => {
  const cases = {
    k310: "test/fixtures/bundles/ct-3.10-table-full",
    lab: "samples/timeouts-long/bundle.tar.gz",
    sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    stateful: "samples/soundcloud-stateful/bundle.tar.gz",
    udp: "samples/table-full-udp-earlydrop/bundle.tar.gz",
    near: "samples/near-capacity/bundle.tar.gz",
    healthy: "samples/healthy/bundle.tar.gz",
  };
  await Promise.all(Object.entries(cases).map(async ([k, p]) => (r[k] = await run(p))));
});

describe("conntrack-timeouts-long", () => {
  it("3.10 derived: 800 ESTABLISHED entries idle 1–4 days under the 432000 s default → lower to 2 × keepalive, top talkers named", () => {
    expect(r.k310).toHaveLength(1);
    const f = r.k310![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ dumpEntries: 1024, dominant: "idle ESTABLISHED", idleOverOneHour: 800, currentTimeout: 432000, proposedTimeout: 14400, topDestinationPort: "tcp/5432" });
    const sample = f.evidence.find((e) => e.source === "conntrack-table" && e.line === 1);
    expect(sample?.path).toMatch(/files\/proc\/net\/nf_conntrack(\.gz)?$/);
    expect(sample?.text).toMatch(/^ipv4 {5}2 tcp {6}6 \d+ ESTABLISHED src=10\.20\.0\.10 dst=10\.30\.0\.15 sport=30000 dport=5432/);
    expect(sample?.highlight).toBe("ESTABLISHED");
    expect(f.evidence.find((e) => e.text === "net.netfilter.nf_conntrack_tcp_timeout_established = 432000")?.source).toBe("sysctl");
    expect(f.summary).toMatch(/destination ports tcp\/5432 \(800\)/);
    expect(f.fixes[0]?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=14400"]);
    expect(f.fixes[0]?.risk).toMatch(/keepalives/);
  });

  it("real timeouts-long sample (6.1): a raw rule drops FIN/RST before conntrack, 3000 closed connections stay ESTABLISHED at 37 % fill", () => {
    expect(r.lab).toHaveLength(1);
    const f = r.lab![0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics).toMatchObject({ dumpEntries: 3000, dominant: "ESTABLISHED", closedConnections: 3000, teardownDropRules: 2, proposedTimeout: 14400, fill: 0.366 });
    const rule = f.evidence.find((e) => e.source === "iptables-nft-save" && e.line === 5);
    expect(rule?.path).toMatch(/commands\/iptables-nft-save$/);
    expect(rule?.text).toBe("-A OUTPUT -o lo -p tcp -m tcp --tcp-flags FIN FIN -j DROP");
    expect(rule?.highlight).toBe("--tcp-flags FIN FIN");
    expect(f.fixes[0]?.title).toBe("Stop dropping TCP FIN/RST before conntrack");
    expect(f.fixes[0]?.commands).toContain("iptables -t raw -D OUTPUT -o lo -p tcp -m tcp --tcp-flags FIN FIN -j DROP");
    expect(f.fixes[1]?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=14400"]);
    expect(f.summary).toMatch(/connections are closed but their entries stay ESTABLISHED/);
  });

  it("silent when the full table holds active connections (sos, soundcloud-stateful: entries refreshed within the hour or timeout already lowered)", () => {
    expect(r.sos).toEqual([]);
    expect(r.stateful).toEqual([]);
  });

  it("silent for UNREPLIED UDP at the default 30 s (not a long timeout: table-full offers the cut) and on near-capacity/healthy", () => {
    expect(r.udp).toEqual([]);
    expect(r.near).toEqual([]);
    expect(r.healthy).toEqual([]);
  });
});
