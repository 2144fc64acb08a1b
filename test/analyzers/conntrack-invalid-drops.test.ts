import { beforeAll, describe, expect, it } from "vitest";
import { analyzer, isDropTarget } from "../../analyzers/conntrack-invalid-drops.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);

let real: DetectedFinding[];
beforeAll(async () => {
  real = await run("samples/invalid-drops/bundle.tar.gz");
});

describe("conntrack-invalid-drops", () => {
  it("real invalid-drops: 1000 invalid, the nft rule counted 500 drops, tcp_loose = 0", () => {
    expect(real).toHaveLength(1);
    const f = real[0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics).toMatchObject({ invalid: 1000, droppedByRules: 500, tcpLoose: 0, invalidPerSecond: 2.564 });
    const nft = f.evidence.find((e) => e.path.endsWith("commands/nft_list_ruleset"));
    expect(nft).toMatchObject({ line: 4, text: "ct state invalid counter packets 500 bytes 26500 drop", highlight: "invalid" });
    const ipt = f.evidence.find((e) => e.path.endsWith("commands/iptables-nft-save"));
    expect(ipt).toMatchObject({ line: 6, text: "-A INPUT -m conntrack --ctstate INVALID -j DROP" });
    expect(f.evidence.some((e) => e.text === "net.netfilter.nf_conntrack_tcp_loose = 0")).toBe(true);
    expect(f.fixes[0]!.commands[0]).toBe('iptables -t filter -I INPUT 1 -m conntrack --ctstate INVALID -m limit --limit 5/min -j LOG --log-prefix "ct-invalid: "');
    expect(f.fixes.find((x) => x.title.includes("tcp_loose"))?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_tcp_loose=1"]);
    expect(f.fixes.find((x) => x.title.includes("be_liberal"))?.risk).toMatch(/weakens/);
    expect(f.mechanism).toMatch(/not checkable here/);
  });

  it.each(["healthy", "table-full-tcp-initns", "sosreport-debian12-conntrack-full", "soundcloud-62"])("silent on %s (INVALID drop rule present or not, few invalid packets)", async (name) => {
    expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
  });
});

describe("isDropTarget", () => {
  it("is DROP or REJECT in any case, as lower-casing the name would say", () => {
    for (const t of ["DROP", "drop", "Drop", "REJECT", "reject", "ReJeCt"]) expect(isDropTarget(t)).toBe(true);
    for (const t of ["ACCEPT", "RETURN", "DROPPED", "KUBE-MARK-DROP", "dro", "", "LOG", "REJECT ", "ＤROP"]) expect(isDropTarget(t), t).toBe(false);
  });
});
