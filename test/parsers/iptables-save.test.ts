import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, schema } from "../../src/parsers/iptables-save.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "sos_commands/networking/iptables-save") => {
  const r = parseText(create, text, { path });
  schema.parse(r.value);
  return r;
};

describe("iptables-save", () => {
  it("reads a real iptables-nft save with counters, quotes, negation and the legacy warning", () => {
    const { value, warnings } = parse(fx("lab-iptables-save-c.txt"));
    expect(warnings).toEqual([]);
    expect(value.notices).toMatchObject([{ kind: "legacy-tables-present", provenance: { line: 1 } }]);
    expect(value.headers[0]).toMatchObject({ tool: "iptables-save", version: "1.8.9", backend: "nf_tables", family: "ipv4" });
    expect(value.tables.map((t) => t.name)).toEqual(["mangle", "raw", "filter", "nat"]);
    const filter = value.tables.find((t) => t.name === "filter")!;
    expect(filter.committed).toBe(true);
    expect(filter.unreferencedChains).toEqual(["UNUSED"]);
    expect(filter.chains.find((c) => c.name === "LOGDROP")).toMatchObject({ builtin: false, references: 3, ruleCount: 2 });
    expect(filter.chains.find((c) => c.name === "FORWARD")).toMatchObject({ builtin: true, policy: "DROP" });
    expect(filter.matchesUsed).toMatchObject({ conntrack: 2, recent: 2, set: 2, limit: 2, comment: 1 });
    const web = filter.rules.find((r) => r.comment !== undefined)!;
    expect(web.comment).toBe('web "frontend" ports');
    expect(web.provenance).toEqual({ path: "sos_commands/networking/iptables-save", line: 36 });
    const log = filter.rules.find((r) => r.target === "LOG")!;
    expect(log.targetOptions).toBe('--log-prefix "DROP: \\"quoted\\" "');
    const neg = filter.rules.find((r) => r.matches.some((m) => m.name === "set" && m.negated))!;
    expect(neg.matches[0]).toEqual({ name: "set", negated: true, options: "! --match-set nets src" });
    expect(filter.rules.find((r) => r.source === "!10.0.0.0/8")?.protocol).toBe("icmp");
    expect(filter.rules[0]!.counters).toEqual({ packets: 9, bytes: 467 });
    const recentSet = filter.rules.find((r) => r.chain === "SSH")!;
    expect(recentSet.target).toBeUndefined();
    const nat = value.tables.find((t) => t.name === "nat")!;
    expect(nat.rules.find((r) => r.target === "MASQUERADE")).toMatchObject({ outInterface: "!lo", targetOptions: "--random-fully" });
    expect(value.totals).toEqual({ tables: 4, chains: 18, rules: 29 });
  });

  it("tells legacy from nft headers and reads ip6tables", () => {
    const legacy = parse(fx("lab-iptables-legacy-save-c.txt")).value;
    expect(legacy.headers[0]).toMatchObject({ tool: "iptables-save", backend: "legacy" });
    expect(legacy.tables[0]!.chains[0]!.counters).toEqual({ packets: 18, bytes: 826 });
    const nftSave = parse(fx("lab-iptables-nft-save.txt")).value;
    expect(nftSave.headers[0]).toMatchObject({ tool: "iptables-nft-save", backend: "nf_tables" });
    const v6 = parse(fx("lab-ip6tables-save-c.txt")).value;
    expect(v6.headers[0]).toMatchObject({ tool: "ip6tables-save", family: "ipv6" });
  });

  it("reads the xtables-save 1.8.2 header (derived) and the 1.6.1 era with implicit matches (derived)", () => {
    const x = parse(fx("derived-xtables-save-1.8.2.txt")).value;
    expect(x.headers[0]).toMatchObject({ tool: "xtables-save", version: "1.8.2", backend: "nf_tables" });
    expect(x.tables[0]!.chains[0]!.counters).toEqual({ packets: 120, bytes: 9000 });
    const old = parse(fx("derived-iptables-save-1.6.1.txt")).value;
    expect(old.headers[0]).toMatchObject({ version: "1.6.1", backend: "legacy" });
    const filter = old.tables.find((t) => t.name === "filter")!;
    expect(filter.rules[0]!.matches.map((m) => [m.name, m.implicit ?? false])).toEqual([
      ["tcp", true],
      ["state", false],
      ["recent", false],
    ]);
    expect(filter.rules[1]!.source).toBe("!10.0.0.0/8");
    expect(old.tables[0]!.unreferencedChains).toEqual(["KUBE-SERVICES"]);
  });

  it("turns the real incompatible-table notices into facts", () => {
    const base = parse(fx("lab-incompat2-iptables-save.txt")).value;
    expect(base.notices.map((n) => [n.kind, n.table])).toEqual([
      ["incompatible-base-chains", "filter"],
      ["incompatible-base-chains", "nat"],
    ]);
    const whole = parse(fx("lab-incompat3-iptables-save.txt")).value;
    expect(whole.notices).toMatchObject([{ kind: "table-incompatible", table: "filter", provenance: { line: 1 } }]);
    expect(whole.tables).toEqual([]);
  });

  it("parses the 2,000-rule cut of the real 200,000-rule legacy save", () => {
    const text = gunzipSync(readFileSync(new URL("lab-big-2000-legacy-save.txt.gz", dir))).toString("utf8");
    const { value, warnings } = parse(text);
    expect(warnings).toEqual([]);
    const t = value.tables[0]!;
    expect(t.rules.length).toBe(2000);
    expect(t.chains.length).toBe(23);
    expect(t.matchesUsed.conntrack).toBeGreaterThan(300);
    expect(t.targetsUsed.LOG).toBeGreaterThan(300);
    expect(t.rules.find((r) => r.target === "LOG")?.targetOptions?.startsWith('--log-prefix "blk')).toBe(true);
  });

  it("handles 200,000 generated rules quickly", () => {
    const lines: string[] = ["*filter", ":INPUT ACCEPT [0:0]", ":BLK - [0:0]", "-A INPUT -j BLK"];
    for (let i = 0; i < 200_000; i++) {
      lines.push(`[${i}:${i * 60}] -A BLK -s 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 -p tcp -m tcp --dport ${i % 65535} -m comment --comment "gen ${i}" -j DROP`);
    }
    lines.push("COMMIT");
    const t0 = performance.now();
    const { value } = parseText(create, lines.join("\n"), { path: "big" });
    const ms = performance.now() - t0;
    expect(value.totals.rules).toBe(200_001);
    expect(value.tables[0]!.rules[200_000]!.comment).toBe("gen 199999");
    expect(ms).toBeLessThan(10_000);
  });

  it("shares equal matches and match lists between rules, frozen", () => {
    const { value } = parse("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1 -m conntrack --ctstate NEW -j ACCEPT\n-A INPUT -s 10.0.0.2 -m conntrack --ctstate NEW -j ACCEPT\n-A INPUT -p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -j DROP\n-A INPUT -j DROP\nCOMMIT\n");
    const [a, b, c, d] = value.tables[0]!.rules;
    expect(a!.matches).toBe(b!.matches);
    expect(c!.matches[0]).toBe(a!.matches[0]);
    expect(Object.isFrozen(a!.matches) && Object.isFrozen(a!.matches[0])).toBe(true);
    expect(c!.matches).toEqual([{ name: "conntrack", negated: false, options: "--ctstate NEW" }, { name: "tcp", negated: false, options: "--dport 22" }]);
    expect(d!.matches).toEqual([]);
    expect(value.tables[0]!.matchesUsed).toEqual({ conntrack: 3, tcp: 1 });
  });

  it("reads a rule word that is an Object.prototype name as a word", () => {
    const { value } = parse('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m string --string toString --algo bm -m comment --comment "constructor" -j DROP\nCOMMIT\n');
    const r = value.tables[0]!.rules[0]!;
    expect(r.matches).toEqual([
      { name: "string", negated: false, options: "--string toString --algo bm" },
      { name: "comment", negated: false, options: '--comment "constructor"' },
    ]);
    expect(r.comment).toBe("constructor");
    expect(r.target).toBe("DROP");
  });

  it("skips binary data inside a quoted word too", () => {
    const { value, warnings } = parse('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "a\u0001b" -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n');
    expect(warnings).toEqual([{ path: "sos_commands/networking/iptables-save", line: 3, message: "binary data skipped" }]);
    expect(value.tables[0]!.rules.map((r) => r.target)).toEqual(["DROP"]);
  });

  it("returns nothing for empty input", () => {
    const { value, warnings } = parse("");
    expect(value.tables).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("warns about a missing COMMIT and keeps the rules of a truncated last line", () => {
    const text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACC";
    const { value, warnings } = parse(text);
    expect(value.tables[0]!.committed).toBe(false);
    expect(value.tables[0]!.rules[0]).toMatchObject({ target: "ACC", matches: [{ name: "tcp", options: "--dport 22" }] });
    expect(warnings).toEqual([{ path: "sos_commands/networking/iptables-save", line: 3, message: expect.stringContaining("no COMMIT") }]);
  });

  it("accepts CRLF line ends", () => {
    const { value, warnings } = parse(fx("lab-iptables-save.txt").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.totals.rules).toBe(29);
    expect(value.tables[0]!.rules[0]!.targetOptions).toBe("--set-xmark 0x1/0xffffffff");
  });

  it("skips binary garbage with a warning naming the line", () => {
    const lines = fx("lab-iptables-save.txt").split("\n"); // fixture lines, fed one by one below
    lines.splice(5, 0, "\u0000\u0001\u0002garbage\u00ff\ufffd");
    const { value, warnings } = parse(lines.join("\n"));
    expect(warnings).toEqual([{ path: "sos_commands/networking/iptables-save", line: 6, message: "binary data skipped" }]);
    expect(value.totals.rules).toBe(29);
  });

  it("does not hang on a 5 MB line", () => {
    const long = `-A INPUT -m comment --comment "${"x".repeat(5_000_000)}" -j ACCEPT`;
    const t0 = performance.now();
    const { value } = parse(`*filter\n:INPUT ACCEPT [0:0]\n${long}\nCOMMIT\n`);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(value.tables[0]!.rules[0]!.comment!.length).toBe(4096);
    expect(value.tables[0]!.rules[0]!.target).toBe("ACCEPT");
  });
});
