import { describe, expect, it } from "vitest";
import { kubeProxyEvidence, teardownDropRules } from "../../src/engine/lib/conntrack-sizing.js";
import { Facts } from "../../src/facts/facts.js";
import { create } from "../../src/parsers/iptables-save.js";
import { parseText } from "../../src/parsers/types.js";

const PATH = "commands/iptables-save";

function factsOf(text: string): Facts {
  const value = parseText(create, text, { path: PATH }).value;
  return new Facts({
    parsed: new Map([["iptables-save", [{ sourceId: "iptables-save", path: PATH, value, warnings: [] }]]]),
    resolved: { layout: "nfdiag", root: "", sources: new Map([["iptables-save", [{ sourceId: "iptables-save", path: PATH, candidate: PATH, size: text.length, text, lineOffset: 0 }]]]), lookedFor: new Map() },
    statuses: [],
    warnings: [],
  });
}

const TEXT = [
  "*raw",
  ":PREROUTING ACCEPT [0:0]",
  "-A PREROUTING -p tcp -m tcp --tcp-flags FIN,RST FIN -j DROP",
  "-A PREROUTING -p tcp -m tcp --tcp-flags RST RST -j DROP",
  "-A PREROUTING -p tcp -m tcp --tcp-flags FIN FIN -j DROP",
  "-A PREROUTING -p tcp -m tcp --dport 22 -j DROP",
  "COMMIT",
  "*filter",
  ":INPUT ACCEPT [0:0]",
  ":KUBE-SERVICES - [0:0]",
  "-A INPUT -p tcp -m tcp --tcp-flags FIN FIN -j DROP",
  "-A INPUT -j KUBE-SERVICES",
  "COMMIT",
].join("\n");

describe("rule lookups of the conntrack sizing library", () => {
  it("finds raw rules that drop FIN/RST once per chain and flag, with fresh evidence for each caller", () => {
    const facts = factsOf(TEXT);
    const first = teardownDropRules(facts);
    expect(first.map((d) => d.rule.line)).toEqual([3, 4]);
    expect(first.map((d) => d.evidence)).toEqual([
      { source: "iptables-save", path: PATH, line: 3, text: "-A PREROUTING -p tcp -m tcp --tcp-flags FIN,RST FIN -j DROP", highlight: "--tcp-flags FIN,RST FIN", note: "drops TCP teardown packets before conntrack sees them" },
      { source: "iptables-save", path: PATH, line: 4, text: "-A PREROUTING -p tcp -m tcp --tcp-flags RST RST -j DROP", highlight: "--tcp-flags RST RST", note: "drops TCP teardown packets before conntrack sees them" },
    ]);
    const again = teardownDropRules(facts);
    expect(again).toEqual(first);
    expect(again[0]!.evidence).not.toBe(first[0]!.evidence);
    expect(again[0]!.rule).toBe(first[0]!.rule);
  });

  it("quotes the first rule of a KUBE-* chain, and nothing without one", () => {
    const ev = kubeProxyEvidence(factsOf(TEXT));
    expect(ev).toMatchObject({ line: 12, text: "-A INPUT -j KUBE-SERVICES", highlight: "KUBE-SERVICES" });
    expect(kubeProxyEvidence(factsOf(TEXT.replace(/KUBE-SERVICES/g, "SERVICES")))).toBeUndefined();
  });
});
