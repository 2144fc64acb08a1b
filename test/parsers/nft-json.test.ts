import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, schema } from "../../src/parsers/nft-json.js";
import { create as createText } from "../../src/parsers/nft-ruleset.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");
const P = "sos_commands/firewall_tables/nft_-j_list_ruleset";
const parse = (text: string) => {
  const r = parseText(create, text, { path: P });
  schema.parse(r.value);
  return r;
};

describe("nft-json", () => {
  it("reads a real native ruleset with the same summary as the text format", () => {
    const { value, warnings } = parse(fx("lab-native-nft-j-list-ruleset.json"));
    expect(warnings).toEqual([]);
    expect(value.version).toBe("1.0.6");
    const fw = value.tables[0]!;
    expect(fw.sets.map((s) => [s.name, s.elements, s.type])).toEqual([
      ["blocked4", 17, "ipv4_addr"],
      ["tcp_ok", 3, "inet_service"],
      ["empty6", 0, "ipv6_addr"],
      ["portmap", 2, "inet_service : ipv4_addr . inet_service"],
    ]);
    expect(fw.objects.find((o) => o.kind === "ct helper")).toMatchObject({ name: "ftp-std", helperType: "ftp" });
    expect(fw.rules.find((r) => r.handle === 14)!.ct).toEqual(["helper"]);
    // Same facts as `nft list ruleset` of the same rules (apart from the dormant flag).
    const text = parseText(createText, fx("lab-native-nft-list-ruleset.txt"), { path: "t" }).value.summary;
    for (const k of ["tables", "chains", "baseChains", "rules", "sets", "setElements", "rulesUsingCt", "natRules", "notrackRules", "logRules", "limitRules"] as const) {
      expect(value.summary[k], k).toBe(text[k]);
    }
    expect(value.summary.ctHelpers).toEqual(text.ctHelpers);
  });

  it("shows iptables-nft rules as xt compat expressions (real nft 1.0.6 JSON)", () => {
    const { value } = parse(fx("lab-nft-j-list-ruleset.json"));
    expect(value.summary.compat).toMatchObject({ conntrack: 5, recent: 2, MASQUERADE: 1, CT: 3, LOG: 1 });
    const raw = value.tables[0]!;
    expect(raw.chains[0]).toMatchObject({ name: "PREROUTING", priority: "-300", hook: "prerouting" });
    expect(raw.rules[0]).toMatchObject({ handle: 2, counter: { packets: 5, bytes: 150 }, compat: [{ kind: "target", name: "CT" }] });
  });

  it("warns about the real cut-short JSON nft 1.0.6 prints for a dormant table", () => {
    const { value, warnings } = parse(fx("lab-native-dormant-nft-j-truncated.json"));
    expect(value.tables).toEqual([]);
    expect(warnings).toEqual([{ path: P, line: 1, message: expect.stringContaining("invalid JSON") }]);
  });

  it("lets unknown fields and kinds pass and skips malformed objects with a warning", () => {
    const doc = { nftables: [{ table: { family: "ip", name: "t", handle: 1, future: true } }, { flowtable2: {} }, { chain: { name: 5 } }] };
    const { value, warnings } = parse(JSON.stringify(doc));
    expect(value.tables[0]!.name).toBe("t");
    expect(warnings).toEqual([{ path: P, line: 1, message: expect.stringContaining("1 JSON objects") }]);
  });

  it("returns nothing for empty input", () => {
    const { value, warnings } = parse("");
    expect(value.tables).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("handles CRLF and a pretty-printed document over several lines", () => {
    const pretty = JSON.stringify(JSON.parse(fx("lab-native-nft-j-list-ruleset.json")), null, 2).replace(/\n/g, "\r\n");
    const { value, warnings } = parse(pretty);
    expect(warnings).toEqual([]);
    expect(value.summary.setElements).toBe(23);
    expect(value.tables[0]!.provenance.lastLine).toBeGreaterThan(100);
  });

  it("skips binary garbage and leading text with warnings naming the lines", () => {
    const text = `# Warning: table ip filter is managed by iptables-nft, do not touch!\n\u0000\u0001\u0002\n${fx("lab-native-nft-j-list-ruleset.json")}`;
    const { value, warnings } = parse(text);
    expect(warnings.map((w) => w.line)).toEqual([1, 2]);
    expect(warnings[1]!.message).toBe("binary data skipped");
    expect(value.summary.rules).toBe(15);
  });

  it("does not hang on a 5 MB line", () => {
    const elem = Array.from({ length: 300_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const doc = { nftables: [{ table: { family: "ip", name: "t" } }, { set: { family: "ip", table: "t", name: "s", type: "ipv4_addr", elem } }] };
    const text = JSON.stringify(doc);
    expect(text.length).toBeGreaterThan(4_000_000);
    const t0 = performance.now();
    const { value } = parse(text);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(value.summary.setElements).toBe(300_000);
  });
});
