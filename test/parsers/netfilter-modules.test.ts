import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import {
  modulesForNftRule,
  modulesForRule,
  modulesForTarget,
  needsConntrack,
  nftNeedsConntrack,
  parseKernelVersion,
  tableModule,
} from "../../src/parsers/netfilter-modules.js";
import { create as createSave } from "../../src/parsers/iptables-save.js";
import { create as createList } from "../../src/parsers/iptables-list.js";
import { create as createNft } from "../../src/parsers/nft-ruleset.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");

describe("netfilter-modules", () => {
  it("maps LOG and MASQUERADE by kernel era", () => {
    expect(modulesForTarget("LOG", "ipv4", "6.1.0-18-amd64")).toEqual(["xt_LOG", "nf_log_syslog"]);
    expect(modulesForTarget("LOG", "ipv4", "5.4.0-150-generic")).toEqual(["xt_LOG", "nf_log_ipv4"]);
    expect(modulesForTarget("LOG", "ipv6", "4.19.0")).toEqual(["xt_LOG", "nf_log_ipv6"]);
    expect(modulesForTarget("MASQUERADE", "ipv4", "4.19.0-25")).toEqual(["ipt_MASQUERADE", "nf_nat_masquerade_ipv4"]);
    expect(modulesForTarget("MASQUERADE", "ipv4", "5.15.0")).toEqual(["xt_MASQUERADE", "nf_nat"]);
    expect(modulesForTarget("REJECT", "ipv6")).toEqual(["ip6t_REJECT"]);
    expect(modulesForTarget("KUBE-SERVICES")).toEqual([]);
    expect(modulesForTarget("LOGDROP")).toEqual([]);
    expect(modulesForTarget("NFLOG")).toEqual(["xt_NFLOG", "nfnetlink_log"]);
    expect(tableModule("nat", "ipv6")).toBe("ip6table_nat");
    expect(parseKernelVersion("3.10.0-1160.el7.x86_64")).toEqual([3, 10]);
    expect(parseKernelVersion("garbage")).toBeUndefined();
  });

  it("lists the modules of real iptables-save rules, with conntrack where needed", () => {
    const save = parseText(createSave, fx("lab-iptables-save-c.txt"), { path: "s" }).value;
    const filter = save.tables.find((t) => t.name === "filter")!;
    const est = filter.rules[0]!;
    expect(needsConntrack(est)).toBe(true);
    expect(modulesForRule({ ...est, table: "filter" }, "6.1.0")).toEqual([
      "iptable_filter", "xt_conntrack", "nf_conntrack", "nf_defrag_ipv4",
    ]);
    const recent = filter.rules.find((r) => r.chain === "SSH" && r.target === "LOGDROP")!;
    expect(needsConntrack(recent)).toBe(false);
    expect(modulesForRule({ ...recent, table: "filter" })).toEqual(["iptable_filter", "xt_recent"]);
    const log = filter.rules.find((r) => r.target === "LOG")!;
    expect(modulesForRule({ ...log, table: "filter" }, "4.19.0")).toEqual(["iptable_filter", "xt_limit", "xt_LOG", "nf_log_ipv4"]);
    const raw = save.tables.find((t) => t.name === "raw")!;
    expect(needsConntrack(raw.rules[0]!)).toBe(true); // CT --notrack
    const nat = save.tables.find((t) => t.name === "nat")!;
    expect(needsConntrack({ table: "nat", matches: [] })).toBe(true);
    expect(modulesForRule({ ...nat.rules.find((r) => r.target === "MASQUERADE")!, table: "nat" }, "6.1.0")).toEqual([
      "iptable_nat", "nf_nat", "xt_MASQUERADE", "nf_conntrack", "nf_defrag_ipv4",
    ]);
  });

  it("works on listing rules (inferred match names) from the real sosreport", () => {
    const list = parseText(createList, fx("sos-iptables_-vnxL"), { path: "l" }).value.tables[0]!;
    const all = new Set(list.rules.flatMap((r) => modulesForRule({ ...r, table: list.name }, "6.1.0")));
    expect([...all].sort()).toEqual(
      ["iptable_filter", "nf_conntrack", "nf_defrag_ipv4", "nf_log_syslog", "xt_LOG", "xt_conntrack", "xt_limit", "xt_recent", "xt_tcpudp"].sort(),
    );
  });

  it("maps nft rules, compat extensions included", () => {
    const nft = parseText(createNft, fx("sos-nft_list_ruleset"), { path: "n" }).value;
    const rules = nft.tables[0]!.rules;
    expect(nftNeedsConntrack(rules[0]!)).toBe(true);
    expect(modulesForNftRule(rules[3]!)).toEqual(["nf_tables", "nft_ct", "nft_compat", "xt_recent", "nf_conntrack", "nf_defrag_ipv4"]);
    expect(modulesForNftRule(rules[6]!, "6.1.0")).toEqual(["nf_tables", "nft_limit", "nft_log"]);
    expect(nftNeedsConntrack(rules[5]!)).toBe(false);
    const native = parseText(createNft, fx("lab-native-nft-list-ruleset.txt"), { path: "n" }).value;
    const masq = native.tables[1]!.rules.find((r) => r.nat.includes("masquerade"))!;
    expect(modulesForNftRule(masq)).toEqual(["nf_tables", "nft_masq", "nft_chain_nat", "nf_nat", "nf_conntrack", "nf_defrag_ipv4"]);
  });
});
