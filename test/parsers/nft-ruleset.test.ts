import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, schema } from "../../src/parsers/nft-ruleset.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "sos_commands/networking/nft_list_ruleset") => {
  const r = parseText(create, text, { path });
  schema.parse(r.value);
  return r;
};

describe("nft-ruleset", () => {
  it("reads the real sosreport ruleset: iptables-nft managed table, ct, xt match recent, log, limit", () => {
    const { value, warnings } = parse(fx("sos-nft_list_ruleset"));
    expect(warnings).toEqual([]);
    expect(value.notices).toMatchObject([{ kind: "managed-by-iptables-nft", family: "ip", table: "filter", provenance: { line: 1 } }]);
    const t = value.tables[0]!;
    expect(t).toMatchObject({ family: "ip", name: "filter", managedByIptablesNft: true, provenance: { line: 2, lastLine: 21 } });
    expect(t.chains[0]).toMatchObject({ name: "INPUT", type: "filter", hook: "input", priority: "filter", policy: "drop", base: true, ruleCount: 7 });
    expect(t.rules[0]).toMatchObject({ ct: ["state"], verdict: "accept", counter: { packets: 256, bytes: 14336 } });
    expect(t.rules[3]!.compat).toEqual([{ kind: "match", name: "recent" }]);
    expect(value.summary).toMatchObject({ rules: 7, rulesUsingCt: 4, logRules: 1, limitRules: 1, compat: { recent: 2 }, natRules: 0 });
  });

  it("reads handles, nat statements, notrack and xt targets from a real `nft -a list ruleset`", () => {
    const { value, warnings } = parse(fx("lab-nft-a-list-ruleset.txt"));
    expect(warnings).toEqual([]);
    expect(value.tables.map((t) => `${t.family} ${t.name} ${t.handle}`)).toEqual(["ip raw 1", "ip mangle 2", "ip filter 3", "ip nat 4", "ip6 filter 5"]);
    const raw = value.tables[0]!;
    expect(raw.rules[0]).toMatchObject({ handle: 2, keywords: ["udp", "counter", "notrack"], text: "udp dport 53 counter packets 5 bytes 150 notrack" });
    expect(raw.rules[1]!.compat).toEqual([{ kind: "target", name: "CT" }]);
    const nat = value.tables[3]!;
    expect(nat.rules.map((r) => r.nat[0])).toEqual(["dnat", undefined, "masquerade", "snat", "redirect"]);
    expect(nat.chains.find((c) => c.name === "OUTPUT")!.priority).toBe("-100");
    const filter = value.tables[2]!;
    expect(filter.rules.find((r) => r.handle === 15)).toMatchObject({ verdict: "jump", jumpTarget: "LOGDROP" });
    expect(value.summary).toMatchObject({ tables: 5, chains: 16, baseChains: 12, rules: 32, notrackRules: 2, natRules: 4 });
  });

  it("counts set elements across wrapped lines and reads ct helper objects (real native ruleset)", () => {
    const { value, warnings } = parse(fx("lab-native-nft-a-list-ruleset.txt"));
    expect(warnings).toEqual([]);
    const fw = value.tables[0]!;
    expect(fw.flags).toEqual(["dormant"]);
    expect(fw.sets.map((s) => [s.kind, s.name, s.elements, s.flags.join(","), s.size])).toEqual([
      ["set", "blocked4", 17, "interval,timeout", 65536],
      ["set", "tcp_ok", 3, "", undefined],
      ["set", "empty6", 0, "", undefined],
      ["map", "portmap", 2, "", undefined],
    ]);
    expect(fw.sets[0]!.provenance).toEqual({ path: "sos_commands/networking/nft_list_ruleset", line: 13, lastLine: 26 });
    expect(fw.objects[0]).toMatchObject({ kind: "ct helper", name: "ftp-std", helperType: "ftp", protocol: "tcp" });
    expect(fw.rules.find((r) => r.ct.includes("helper"))!.handle).toBe(14);
    expect(fw.rules.find((r) => r.ct.includes("status"))!.nat).toEqual([]); // `ct status dnat` is no NAT statement
    expect(fw.rules.find((r) => r.setRefs.includes("blocked4"))!.verdict).toBe("drop");
    expect(value.tables[2]!.chains[0]).toMatchObject({ hook: "ingress", device: "lo", priority: "-500" });
    expect(value.summary).toMatchObject({ sets: 5, setElements: 23, ctHelpers: ["ftp-std"], rulesUsingCt: 5 });
  });

  it("reads the older `# xt_recent` compat comment (derived)", () => {
    const { value } = parse(fx("derived-nft-xt-comment.txt"));
    expect(value.tables[0]!.rules[1]).toMatchObject({ compat: [{ name: "recent" }], ct: ["state"] });
    expect(value.summary.compat).toEqual({ recent: 2 });
  });

  it("returns nothing for empty input", () => {
    const { value, warnings } = parse("");
    expect(value.tables).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("warns when the output stops inside a block and keeps what it read", () => {
    const text = fx("lab-native-nft-list-ruleset.txt").split("\n").slice(0, 16).join("\n") + "\n\t\t\t     198.51.100.9, 198.5";
    const { value, warnings } = parse(text);
    expect(value.tables[0]!.sets[0]).toMatchObject({ name: "blocked4", flags: ["interval", "timeout"] });
    expect(warnings).toEqual([{ path: "sos_commands/networking/nft_list_ruleset", line: 17, message: expect.stringContaining("open block") }]);
  });

  it("accepts CRLF line ends", () => {
    const { value, warnings } = parse(fx("lab-native-nft-a-list-ruleset.txt").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.summary.setElements).toBe(23);
    expect(value.tables[0]!.chains[0]!.policy).toBe("drop");
  });

  it("skips binary garbage with a warning naming the line", () => {
    const lines = fx("sos-nft_list_ruleset").split("\n"); // fixture lines, fed one by one below
    lines.splice(5, 0, "\u0000\u0007\u00ff\ufffd\u0001");
    const { value, warnings } = parse(lines.join("\n"));
    expect(warnings).toEqual([{ path: "sos_commands/networking/nft_list_ruleset", line: 6, message: "binary data skipped" }]);
    expect(value.summary.rules).toBe(7);
  });

  it("does not hang on a 5 MB line (a huge elements list on one line)", () => {
    const elems = Array.from({ length: 350_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join(", ");
    const text = `table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { ${elems} }\n\t}\n}\n`;
    expect(text.length).toBeGreaterThan(4_000_000);
    const t0 = performance.now();
    const { value, warnings } = parse(text);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(warnings).toEqual([]);
    expect(value.tables[0]!.sets[0]!.elements).toBe(350_000);
  });
});
