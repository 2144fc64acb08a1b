import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/iptables-backend-mismatch.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("iptables-backend-mismatch", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      mismatch: "samples/backend-mismatch/bundle.tar.gz",
      sos: "samples/sos-backend-mismatch/bundle.tar.gz",
      healthy: "samples/healthy/bundle.tar.gz",
      flood: "samples/log-flood/bundle.tar.gz",
      sosNatOnly: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    }))
      r[k] = await run(p);
  });

  it("real collector bundle: both backends hold rules, DROP 8080 (legacy) vs ACCEPT 8080 (nft)", () => {
    const f = r.mismatch![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ defaultBackend: "nf_tables", legacyRules: 3, nftRules: 2, conflictingRules: 1 });
    const legacy = f.evidence.find((e) => e.source === "iptables-legacy-save")!;
    expect(legacy).toMatchObject({ line: 8, text: "-A INPUT -p tcp -m tcp --dport 8080 -j DROP", highlight: "-j DROP" });
    expect(legacy.path).toMatch(/commands\/iptables-legacy-save$/);
    expect(f.evidence.find((e) => e.source === "iptables-nft-save")!.text).toBe("-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT");
    expect(f.evidence.find((e) => e.source === "iptables-version")).toMatchObject({ text: "iptables v1.8.9 (nf_tables)", highlight: "(nf_tables)" });
    expect(f.evidence.some((e) => e.source === "collector-manifest" && e.text.startsWith("# Warning: iptables-legacy tables present"))).toBe(true);
    expect(f.summary).toMatch(/legacy DROP wins/);
    const fix = f.fixes.find((x) => x.title.startsWith("Move every rule into iptables-nft"))!;
    expect(fix.commands).toContain("iptables-legacy -t filter -F");
    expect(fix.persist).toContain("update-alternatives --set iptables /usr/sbin/iptables-nft && update-alternatives --set ip6tables /usr/sbin/ip6tables-nft");
    expect(fix.risk).toMatch(/^high/);
  });

  it("real sosreport with only a legacy nat table (the mark of a listing): low", () => {
    const f = r.sosNatOnly![0]!;
    expect(f.severity).toBe("low");
    expect(f.evidence.find((e) => e.source === "ip-tables-names")?.text).toBe("nat");
  });

  it("real sosreport: legacy filter table beside the nft listing, inferred from x_tables modules in use", () => {
    const f = r.sos![0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics.legacyCollected).toBe(false);
    expect(String(f.metrics.inferredLegacyModules)).toMatch(/xt_tcpudp:2/);
    const warn = f.evidence.find((e) => e.source === "iptables-list")!;
    expect(warn.text).toBe("# Warning: iptables-legacy tables present, use iptables-legacy to see them");
    expect(warn.line).toBe(1);
    expect(f.evidence.some((e) => e.source === "ip-tables-names" && e.text === "filter")).toBe(true);
    expect(f.fixes[0]!.commands[0]).toBe("iptables-legacy-save");
  });

  it("silent on single-backend bundles", () => {
    expect(r.healthy).toEqual([]);
    expect(r.flood).toEqual([]);
  });
});
