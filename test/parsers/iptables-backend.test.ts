import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as iptv from "../../src/parsers/iptables-version.js";
import * as alternatives from "../../src/parsers/alternatives.js";
import * as names from "../../src/parsers/ip-tables-names.js";

describe("iptables -V", () => {
  it("reads the real outputs (1.8.9 nft and legacy)", () => {
    const { value, warnings } = run(iptv.create, fixture("iptables-V.lab"));
    expect(warnings).toEqual([]);
    expect(value.tools.map((t) => [t.tool, t.version, t.backend])).toEqual([
      ["iptables", "1.8.9", "nf_tables"],
      ["iptables", "1.8.9", "legacy"],
      ["iptables", "1.8.9", "nf_tables"],
      ["ip6tables", "1.8.9", "nf_tables"],
    ]);
  });

  it("iptables before 1.8 prints no backend: legacy by version", () => {
    expect(iptv.parseIptablesVersion("iptables v1.6.1")).toEqual({ tool: "iptables", version: "1.6.1", backend: "legacy", backendSource: "version-before-1.8" });
    expect(iptv.parseIptablesVersion("iptables v1.4.21")?.backend).toBe("legacy");
  });

  it("a 1.8 line without suffix is unknown (warned); a failure is recorded", () => {
    const { value, warnings } = run(iptv.create, "iptables v1.8.4\nbash: iptables: command not found\niptables v1.8.9 (nf_t");
    expect(value.tools[0]).toMatchObject({ backend: "unknown", backendSource: "none" });
    expect(value.failures).toHaveLength(1);
    expect(warnings.map((w) => w.line)).toEqual([1, 3]);
  });
});

describe("alternatives", () => {
  it("reads the real Debian update-alternatives output", () => {
    const { value, warnings } = run(alternatives.create, fixture("alternatives-debian.lab"), "sos_commands/alternatives/update-alternatives_--display_iptables");
    expect(warnings).toEqual([]);
    expect(value.groups).toHaveLength(1);
    const g = value.groups[0];
    expect(g).toMatchObject({ name: "iptables", mode: "auto", current: "/usr/sbin/iptables-nft", best: "/usr/sbin/iptables-nft", backend: "nf_tables" });
    expect(g?.choices.map((c) => [c.path, c.priority])).toEqual([
      ["/usr/sbin/iptables-legacy", 10],
      ["/usr/sbin/iptables-nft", 20],
    ]);
    expect(g?.choices[0]?.followers["iptables-restore"]).toBe("/usr/sbin/iptables-legacy-restore");
  });

  it("reads RHEL alternatives --display (status is auto, follower)", () => {
    const { value } = run(alternatives.create, fixture("alternatives-rhel.derived"));
    const g = value.groups[0];
    expect(g).toMatchObject({ mode: "auto", current: "/usr/sbin/iptables-nft", best: "/usr/sbin/iptables-nft", backend: "nf_tables" });
    expect(Object.keys(g?.choices[0]?.followers ?? {})).toHaveLength(5);
  });

  it("manual mode pointing at legacy; errors recorded", () => {
    const text = "iptables - manual mode\n  link currently points to /usr/sbin/iptables-legacy\n/usr/sbin/iptables-legacy - priority 10\nupdate-alternatives: error: no alternatives for ip6tables\n";
    const { value } = run(alternatives.create, text);
    expect(value.groups[0]).toMatchObject({ mode: "manual", backend: "legacy" });
    expect(value.errors[0]?.message).toContain("no alternatives for ip6tables");
  });

  it("a cut output without the current link is warned", () => {
    const { value, warnings } = run(alternatives.create, "iptables - auto mode\n  link best version is /usr/sbin/iptables-nft\n  link curr");
    expect(value.groups[0]?.backend).toBe("unknown");
    expect(warnings.map((w) => w.line)).toEqual([3, 1]);
  });
});

describe("ip_tables_names / matches / targets", () => {
  it("reads the real legacy table list from a lab namespace", () => {
    const { value } = run(names.create, fixture("ip_tables_names.lab"), "proc/net/ip_tables_names");
    expect(value).toMatchObject({ family: "ipv4", list: "names" });
    expect(value.entries.map((e) => e.name)).toEqual(["nat", "filter"]);
  });

  it("an empty ip6_tables_names means no legacy ip6 tables", () => {
    const { value, warnings } = run(names.create, fixture("ip6_tables_names.lab"), "proc/net/ip6_tables_names");
    expect(value).toEqual({ family: "ipv6", list: "names", entries: [] });
    expect(warnings).toEqual([]);
  });

  it("counts revisions in the real sos 4.0 matches file", () => {
    const { value } = run(names.create, fixture("ip_tables_matches.sos"), "proc/242/net/ip_tables_matches");
    expect(value.list).toBe("matches");
    expect(value.entries.find((e) => e.name === "conntrack")).toMatchObject({ occurrences: 3, provenance: { line: 2 } });
    expect(value.entries.map((e) => e.name)).toEqual(["limit", "conntrack", "icmp", "recent", "udplite", "udp", "tcp"]);
  });
});
