/**
 * Match/target/expression → kernel module maps (kernel-facts.md §4.1, 6.18 MODULE_ALIAS; legacy
 * iptables requests `ipt_<name>` / `ip6t_<name>` through x_tables `request_module("%st_%s")`).
 * Not a parser: the lookup tables analyzers use to say which modules a rule set needs, e.g.
 *
 *   modulesForRule({ table: "filter", matches: ["recent"], target: "LOG" }, "4.19.0")
 *     → ["iptable_filter", "xt_recent", "xt_LOG", "nf_log_ipv4"]
 */

/** Modules conntrack itself needs (per family). */
export const CONNTRACK_MODULES = {
  ipv4: ["nf_conntrack", "nf_defrag_ipv4"],
  ipv6: ["nf_conntrack", "nf_defrag_ipv6"],
} as const;

type Family = "ipv4" | "ipv6";

const xt = (n: string) => [`xt_${n}`];

/** iptables match name → modules (besides conntrack, added by needsConntrack). */
export const IPTABLES_MATCH_MODULES: Readonly<Record<string, readonly string[]>> = {
  conntrack: xt("conntrack"),
  state: xt("state"),
  recent: xt("recent"),
  set: ["xt_set", "ip_set"],
  multiport: xt("multiport"),
  tcp: xt("tcpudp"),
  udp: xt("tcpudp"),
  udplite: xt("tcpudp"),
  icmp: [], // in ip_tables itself
  icmp6: [], // in ip6_tables
  "ipv6-icmp": [],
  comment: xt("comment"),
  statistic: xt("statistic"),
  mark: xt("mark"),
  connmark: xt("connmark"),
  addrtype: xt("addrtype"),
  limit: xt("limit"),
  hashlimit: xt("hashlimit"),
  connlimit: ["xt_connlimit", "nf_conncount"],
  connbytes: xt("connbytes"),
  connlabel: xt("connlabel"),
  helper: xt("helper"),
  owner: xt("owner"),
  physdev: ["xt_physdev", "br_netfilter"],
  hl: xt("hl"),
  ttl: xt("hl"),
  ah: [], // ipt_ah / ip6t_ah, family-specific below
  rpfilter: [], // ipt_rpfilter / ip6t_rpfilter
  ...Object.fromEntries(
    [
      "iprange", "length", "mac", "pkttype", "policy", "socket", "string", "time", "u32", "bpf", "cgroup", "devgroup",
      "dscp", "tos", "ecn", "esp", "ipvs", "l2tp", "nfacct", "osf", "quota", "rateest", "realm", "sctp", "tcpmss", "cpu",
      "cluster", "dccp", "ipcomp", "owner",
    ].map((n) => [n, xt(n === "tos" ? "dscp" : n)]),
  ),
};

/** iptables target → modules. REJECT, MASQUERADE, LOG are family/kernel dependent: see modulesForTarget. */
export const IPTABLES_TARGET_MODULES: Readonly<Record<string, readonly string[]>> = {
  NFLOG: ["xt_NFLOG", "nfnetlink_log"],
  CT: xt("CT"),
  NOTRACK: xt("CT"),
  SNAT: ["xt_nat", "nf_nat"],
  DNAT: ["xt_nat", "nf_nat"],
  REDIRECT: ["xt_REDIRECT", "nf_nat"],
  NETMAP: ["xt_NETMAP", "nf_nat"],
  SET: ["xt_set", "ip_set"],
  MARK: xt("mark"),
  CONNMARK: xt("connmark"),
  SYNPROXY: ["ipt_SYNPROXY", "nf_synproxy_core"],
  ECN: ["ipt_ECN"],
  ...Object.fromEntries(
    [
      "TCPMSS", "TPROXY", "TEE", "NFQUEUE", "CHECKSUM", "CLASSIFY", "DSCP", "TOS", "HL", "TTL", "HMARK", "IDLETIMER", "LED",
      "RATEEST", "SECMARK", "CONNSECMARK", "TCPOPTSTRIP", "TRACE", "AUDIT",
    ].map((n) => [n, xt(n === "TOS" ? "DSCP" : n === "TTL" ? "HL" : n)]),
  ),
};

/** Modules that call nf_ct_netns_get (kernel-facts §4.1): loading them loads conntrack. */
export const CONNTRACK_DEPENDENT_MATCHES: ReadonlySet<string> = new Set([
  "conntrack", "state", "connmark", "connlimit", "connbytes", "connlabel", "helper", "cluster", "ipvs",
]);
export const CONNTRACK_DEPENDENT_TARGETS: ReadonlySet<string> = new Set([
  "CT", "NOTRACK", "SNAT", "DNAT", "MASQUERADE", "REDIRECT", "NETMAP", "CONNMARK", "CONNSECMARK", "HMARK", "SYNPROXY",
]);
/** Tables whose module needs conntrack (iptable_nat → nf_nat → nf_conntrack). */
export const CONNTRACK_DEPENDENT_TABLES: ReadonlySet<string> = new Set(["nat"]);

/** nft expression keyword → modules (6.x: many expressions are built into nf_tables). */
export const NFT_EXPRESSION_MODULES: Readonly<Record<string, readonly string[]>> = {
  ct: ["nft_ct"],
  snat: ["nft_nat", "nft_chain_nat", "nf_nat"],
  dnat: ["nft_nat", "nft_chain_nat", "nf_nat"],
  masquerade: ["nft_masq", "nft_chain_nat", "nf_nat"],
  redirect: ["nft_redir", "nft_chain_nat", "nf_nat"],
  reject: ["nft_reject", "nft_reject_inet"],
  log: ["nft_log"],
  limit: ["nft_limit"],
  quota: ["nft_quota"],
  numgen: ["nft_numgen"],
  jhash: ["nft_hash"],
  symhash: ["nft_hash"],
  fib: ["nft_fib_inet"],
  queue: ["nft_queue"],
  connlimit: ["nft_connlimit", "nf_conncount"],
  socket: ["nft_socket"],
  tproxy: ["nft_tproxy"],
  osf: ["nft_osf"],
  flow: ["nft_flow_offload"],
  synproxy: ["nft_synproxy"],
  ipsec: ["nft_xfrm"],
  notrack: ["nft_ct"],
  xt: ["nft_compat"],
};

/** `6.1.0-18-amd64` → [6, 1]; undefined when unreadable. */
export function parseKernelVersion(version: string | undefined): [number, number] | undefined {
  if (!version) return undefined;
  const dot = version.indexOf(".");
  if (dot <= 0) return undefined;
  const major = Number(version.slice(0, dot));
  let end = dot + 1;
  while (end < version.length && version.charCodeAt(end) >= 0x30 && version.charCodeAt(end) <= 0x39) end++;
  const minor = Number(version.slice(dot + 1, end));
  return Number.isInteger(major) && Number.isInteger(minor) && end > dot + 1 ? [major, minor] : undefined;
}

function atLeast(v: [number, number] | undefined, major: number, minor: number): boolean {
  if (!v) return true; // unknown kernel: assume a current one
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

/** Table module: iptable_filter / ip6table_nat … */
export function tableModule(table: string, family: Family = "ipv4"): string {
  return `${family === "ipv6" ? "ip6table" : "iptable"}_${table}`;
}

/** Modules of one match, family-aware (ah, rpfilter live in ipt_/ip6t_ modules). */
export function modulesForMatch(name: string, family: Family = "ipv4"): string[] {
  if (name === "ah" || name === "rpfilter") return [`${family === "ipv6" ? "ip6t" : "ipt"}_${name}`];
  const known = IPTABLES_MATCH_MODULES[name];
  return known ? [...known] : [`xt_${name}`];
}

/**
 * Modules of one target. LOG: xt_LOG + nf_log_syslog from 5.13 (merged ~5.12/5.13), nf_log_ipv4/6
 * before. MASQUERADE: xt_MASQUERADE + nf_nat on 5.x; ipt_/ip6t_MASQUERADE + nf_nat_masquerade_ipv4/6
 * up to 4.19 (merged between 4.19 and 5.4; 5.0–5.3 treated as merged).
 */
export function modulesForTarget(name: string, family: Family = "ipv4", kernelVersion?: string): string[] {
  const v = parseKernelVersion(kernelVersion);
  switch (name) {
    case "LOG":
      return ["xt_LOG", atLeast(v, 5, 13) ? "nf_log_syslog" : family === "ipv6" ? "nf_log_ipv6" : "nf_log_ipv4"];
    case "MASQUERADE":
      return atLeast(v, 5, 0)
        ? ["xt_MASQUERADE", "nf_nat"]
        : family === "ipv6"
          ? ["ip6t_MASQUERADE", "nf_nat_masquerade_ipv6"]
          : ["ipt_MASQUERADE", "nf_nat_masquerade_ipv4"];
    case "REJECT":
      return [family === "ipv6" ? "ip6t_REJECT" : "ipt_REJECT"];
    case "ACCEPT":
    case "DROP":
    case "RETURN":
    case "QUEUE":
      return [];
    default: {
      // Names not in the map are user chains (DOCKER, KUBE-SERVICES, LOGDROP): no module.
      const known = IPTABLES_TARGET_MODULES[name];
      return known ? [...known] : [];
    }
  }
}

/** The part of a rule the module maps need: works for iptables-save and iptables-list rules. */
export interface RuleModuleInput {
  table?: string;
  family?: Family;
  /** Match names, or match objects with a name (iptables-save). */
  matches: ReadonlyArray<string | { name: string }>;
  target?: string;
}

const names = (m: RuleModuleInput["matches"]) => m.map((x) => (typeof x === "string" ? x : x.name));

/** True when loading this rule loads (or needs) nf_conntrack. */
export function needsConntrack(rule: RuleModuleInput): boolean {
  if (rule.table && CONNTRACK_DEPENDENT_TABLES.has(rule.table)) return true;
  if (names(rule.matches).some((n) => CONNTRACK_DEPENDENT_MATCHES.has(n))) return true;
  return rule.target !== undefined && CONNTRACK_DEPENDENT_TARGETS.has(rule.target);
}

/** Kernel modules a legacy iptables rule needs (sorted by first need, no duplicates). */
export function modulesForRule(rule: RuleModuleInput, kernelVersion?: string): string[] {
  const family = rule.family ?? "ipv4";
  const out: string[] = [];
  const add = (list: readonly string[]) => {
    for (const m of list) if (!out.includes(m)) out.push(m);
  };
  if (rule.table) add([tableModule(rule.table, family)]);
  if (rule.table === "nat") add(["nf_nat"]);
  for (const n of names(rule.matches)) add(modulesForMatch(n, family));
  if (rule.target) add(modulesForTarget(rule.target, family, kernelVersion));
  if (needsConntrack(rule)) add(CONNTRACK_MODULES[family]);
  return out;
}

/** The part of an nft rule the maps need (nft-ruleset / nft-json rules fit). */
export interface NftRuleModuleInput {
  family?: string;
  keywords: readonly string[];
  ct?: readonly string[];
  nat?: readonly string[];
  compat?: ReadonlyArray<{ name: string; kind?: "match" | "target" }>;
}

export function nftNeedsConntrack(rule: NftRuleModuleInput): boolean {
  if ((rule.ct?.length ?? 0) > 0 || (rule.nat?.length ?? 0) > 0) return true;
  if (rule.keywords.some((k) => k === "ct" || k === "notrack" || k === "snat" || k === "dnat" || k === "masquerade" || k === "redirect" || k === "connlimit")) return true;
  return (rule.compat ?? []).some((c) => CONNTRACK_DEPENDENT_MATCHES.has(c.name) || CONNTRACK_DEPENDENT_TARGETS.has(c.name));
}

/** Kernel modules an nft rule needs (nf_tables always; nft_compat + xt_* for untranslated extensions). */
export function modulesForNftRule(rule: NftRuleModuleInput, kernelVersion?: string): string[] {
  const out: string[] = ["nf_tables"];
  const add = (list: readonly string[]) => {
    for (const m of list) if (!out.includes(m)) out.push(m);
  };
  for (const k of rule.keywords) {
    const mods = NFT_EXPRESSION_MODULES[k];
    if (mods) add(mods);
  }
  const fam: Family = rule.family === "ip6" ? "ipv6" : "ipv4";
  for (const c of rule.compat ?? []) {
    add(["nft_compat"]);
    const isTarget = c.kind === "target" || (c.kind === undefined && c.name === c.name.toUpperCase());
    add(isTarget ? modulesForTarget(c.name, fam, kernelVersion) : modulesForMatch(c.name, fam));
  }
  if (nftNeedsConntrack(rule)) add(rule.family === "ip6" ? CONNTRACK_MODULES.ipv6 : rule.family === "ip" ? CONNTRACK_MODULES.ipv4 : ["nf_conntrack", "nf_defrag_ipv4", "nf_defrag_ipv6"]);
  return out;
}
