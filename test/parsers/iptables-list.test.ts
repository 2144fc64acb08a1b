import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, inferMatches, schema } from "../../src/parsers/iptables-list.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "sos_commands/networking/iptables_-vnxL") => {
  const r = parseText(create, text, { path });
  schema.parse(r.value);
  return r;
};

describe("iptables-list", () => {
  it("reads the real sosreport listing: legacy warning, empty target, inferred matches", () => {
    const { value, warnings } = parse(fx("sos-iptables_-vnxL"));
    expect(warnings).toEqual([]);
    expect(value.notices).toMatchObject([{ kind: "legacy-tables-present", provenance: { line: 1 } }]);
    const t = value.tables[0]!;
    expect(t).toMatchObject({ name: "filter", nameSource: "chains", family: "ipv4", verbose: true });
    expect(t.chains.find((c) => c.name === "INPUT")).toMatchObject({ policy: "DROP", builtin: true, ruleCount: 7 });
    expect(t.chains.find((c) => c.name === "OUTPUT")!.counters).toEqual({ packets: 384, bytes: 22016 });
    const [est, , lo, recentSet] = t.rules;
    expect(est).toMatchObject({ target: "ACCEPT", protocol: "all", matches: ["conntrack"], counters: { packets: 256, bytes: 14336 } });
    expect(lo).toMatchObject({ inInterface: "lo", matches: [] });
    expect(recentSet!.target).toBeUndefined();
    expect(recentSet).toMatchObject({ protocol: "tcp", matches: ["tcp", "conntrack", "recent"], provenance: { line: 7 } });
    expect(t.rules[6]).toMatchObject({ target: "LOG", matches: ["limit"] });
    expect(t.targetsUsed).toEqual({ ACCEPT: 3, DROP: 2, LOG: 1 });
  });

  it("reads a real lab listing with user chains, comments, set matches and negation", () => {
    const { value } = parse(fx("lab-iptables-vnxL.txt"));
    const t = value.tables[0]!;
    expect(t.unreferencedChains).toEqual(["UNUSED"]);
    expect(t.chains.find((c) => c.name === "LOGDROP")).toMatchObject({ references: 3, builtin: false, ruleCount: 2 });
    expect(t.rules.find((r) => r.comment)?.comment).toBe('web "frontend" ports');
    expect(t.rules.find((r) => r.source === "!10.0.0.0/8")!.matches).toEqual(["icmp", "limit"]);
    expect(t.rules.find((r) => r.extra.startsWith("! match-set"))!.matches).toEqual(["set", "tcp"]);
    expect(t.matchesUsed).toMatchObject({ state: 1, connlimit: 1, addrtype: 1, owner: 1, recent: 2, multiport: 1 });
  });

  it("names the table from the sos file name and reads nat targets", () => {
    const { value } = parse(fx("lab-iptables-t-nat-nvL.txt"), "sos_commands/networking/iptables_-t_nat_-nvL");
    const t = value.tables[0]!;
    expect(t).toMatchObject({ name: "nat", nameSource: "path" });
    expect(t.rules.find((r) => r.target === "MASQUERADE")).toMatchObject({ outInterface: "!lo", source: "10.99.0.0/24" });
    expect(t.targetsUsed).toEqual({ DOCKER: 1, REDIRECT: 1, MASQUERADE: 1, SNAT: 1, DNAT: 1 });
  });

  it("reads the non-verbose -L format and ip6tables", () => {
    const l = parse(fx("lab-iptables-L.txt")).value.tables[0]!;
    expect(l.verbose).toBe(false);
    expect(l.rules.find((r) => r.chain === "SSH")!.target).toBeUndefined();
    expect(l.rules[0]).toMatchObject({ target: "ACCEPT", protocol: "all", source: "anywhere", matches: ["conntrack"] });
    const v6 = parse(fx("lab-ip6tables-vnxL.txt"), "sos_commands/networking/ip6tables_-vnxL").value.tables[0]!;
    expect(v6.family).toBe("ipv6");
    expect(v6.rules[1]!.protocol).toBe("ipv6-icmp");
  });

  it("reads K/M suffixes as approximate counters and splits concatenated tables (derived 1.6 listing)", () => {
    const { value } = parse(fx("derived-iptables-1.6-nvL-suffixes.txt"), "rules.txt");
    expect(value.tables.map((t) => t.name)).toEqual(["filter", "raw"]);
    const f = value.tables[0]!;
    expect(f.chains[0]!.counters).toEqual({ packets: 12e6, bytes: 9876e6, approximate: true });
    expect(f.rules[0]!.counters).toEqual({ packets: 345e3, bytes: 21e6, approximate: true });
    expect(f.rules[2]!.counters).toEqual({ packets: 99999, bytes: 5e6, approximate: true });
    expect(f.rules[1]!.matches).toEqual(["tcp", "state"]);
    expect(value.tables[1]!.rules[0]).toMatchObject({ target: "CT", matches: ["udp"], provenance: { line: 14 } });
  });

  it("turns incompatible notices into facts (real 1.8.9 and derived 1.8.10)", () => {
    const real = parse(fx("lab-incompat3-iptables-vnxL.txt")).value;
    expect(real.notices).toMatchObject([{ kind: "table-incompatible", table: "filter", tool: "iptables v1.8.9 (nf_tables)" }]);
    expect(real.tables).toEqual([]);
    const base = parse(fx("lab-incompat2-iptables-t-nat-nvL.txt")).value;
    expect(base.notices).toMatchObject([{ kind: "incompatible-base-chains", table: "nat" }]);
    const derived = parse(fx("derived-iptables-1.8.10-chain-incompatible.txt")).value;
    expect(derived.notices).toMatchObject([{ kind: "chain-incompatible", chain: "INPUT", table: "filter", provenance: { line: 1 } }]);
  });

  it("infers matches from free text", () => {
    expect(inferMatches("limit: up to 10/sec burst 5 mode srcip", "all")).toEqual(["hashlimit"]);
    expect(inferMatches("udp dpts:1000:2000 source IP range 10.0.0.1-10.0.0.9", "udp")).toEqual(["udp", "iprange"]);
    expect(inferMatches("mark match 0x1 /* tcp state */ LOG flags 0 level 4", "all")).toEqual(["comment", "mark"]);
  });

  it("returns nothing for empty input", () => {
    const { value, warnings } = parse("");
    expect(value.tables).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("keeps what it can of a truncated last line", () => {
    const text = fx("sos-iptables_-vnxL").split("\n").slice(0, 7).join("\n") + "\n       0        0 DROP       6    --  *";
    const { value, warnings } = parse(text);
    expect(value.tables[0]!.rules.length).toBe(4);
    expect(warnings).toEqual([{ path: "sos_commands/networking/iptables_-vnxL", line: 8, message: "rule line with missing columns" }]);
  });

  it("accepts CRLF line ends", () => {
    const { value, warnings } = parse(fx("sos-iptables_-vnxL").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.tables[0]!.rules.length).toBe(7);
    expect(value.tables[0]!.rules[0]!.matches).toEqual(["conntrack"]);
  });

  it("skips binary garbage with a warning naming the line", () => {
    const lines = fx("sos-iptables_-vnxL").split("\n"); // fixture lines, fed one by one below
    lines.splice(4, 0, "\u0000\u0000PK\u0003\u0004");
    const { value, warnings } = parse(lines.join("\n"));
    expect(warnings).toEqual([{ path: "sos_commands/networking/iptables_-vnxL", line: 5, message: "binary data skipped" }]);
    expect(value.tables[0]!.rules.length).toBe(7);
  });

  it("does not hang on a 5 MB line", () => {
    const head = fx("sos-iptables_-vnxL").split("\n").slice(0, 3).join("\n");
    const long = `       0        0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            ${"tcp dpt:22 ".repeat(450_000)}`;
    const t0 = performance.now();
    const { value } = parse(`${head}\n${long}\n`);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(value.tables[0]!.rules[0]!.extra.length).toBe(4096);
    expect(value.tables[0]!.rules[0]!.matches).toEqual(["tcp"]);
  });
});
