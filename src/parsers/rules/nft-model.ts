/**
 * The summary shape shared by the nft text parser (`nft list ruleset`) and the JSON one
 * (`nft -j list ruleset`), plus the rule classification both use.
 */
import { z } from "zod";
import { provenanceSchema } from "./text.js";

export const nftChainSchema = z.object({
  name: z.string(),
  handle: z.number().optional(),
  type: z.string().optional(),
  hook: z.string().optional(),
  /** As printed: a keyword (`filter`, `dstnat`) or a number (`-100`). */
  priority: z.string().optional(),
  policy: z.string().optional(),
  device: z.string().optional(),
  /** True for base chains (with a hook). */
  base: z.boolean(),
  ruleCount: z.number(),
  provenance: provenanceSchema,
});
export type NftChain = z.infer<typeof nftChainSchema>;

export const nftSetSchema = z.object({
  name: z.string(),
  kind: z.enum(["set", "map"]),
  handle: z.number().optional(),
  /** `type ipv4_addr` (or the `typeof` expression). */
  type: z.string().optional(),
  flags: z.array(z.string()),
  size: z.number().optional(),
  timeout: z.string().optional(),
  /** Elements counted (across wrapped lines in the text format). */
  elements: z.number(),
  provenance: provenanceSchema,
});
export type NftSet = z.infer<typeof nftSetSchema>;

export const nftObjectSchema = z.object({
  /** `ct helper`, `counter`, `quota`, `limit`, `ct timeout`, `ct expectation`, `flowtable`, `secmark`, `synproxy`. */
  kind: z.string(),
  name: z.string(),
  /** For ct helper objects: the helper type, e.g. "ftp". */
  helperType: z.string().optional(),
  protocol: z.string().optional(),
  provenance: provenanceSchema,
});
export type NftObject = z.infer<typeof nftObjectSchema>;

export const nftRuleSchema = z.object({
  family: z.string(),
  table: z.string(),
  chain: z.string(),
  handle: z.number().optional(),
  /** Rule text without the `# handle` comment (text format only; cut at 4096 chars). */
  text: z.string().optional(),
  /** Expression/statement keywords in order of first use: `ct`, `meta`, `tcp`, `counter`, `log`, `dnat`… */
  keywords: z.array(z.string()),
  /** `ct` keys used: `state`, `mark`, `helper`, `status`, `zone`, `count`, `original`… */
  ct: z.array(z.string()),
  /** NAT statements: `snat`, `dnat`, `masquerade`, `redirect`. */
  nat: z.array(z.string()),
  /** Untranslated iptables extensions kept by nft_compat (`xt match recent`, `# xt_recent`). */
  compat: z.array(z.object({ kind: z.enum(["match", "target"]).optional(), name: z.string() })),
  verdict: z.string().optional(),
  /** Chain named by jump/goto. */
  jumpTarget: z.string().optional(),
  counter: z.object({ packets: z.number(), bytes: z.number() }).optional(),
  /** Named sets/maps referenced with `@name`. */
  setRefs: z.array(z.string()),
  provenance: provenanceSchema,
});
export type NftRule = z.infer<typeof nftRuleSchema>;

export const nftTableSchema = z.object({
  family: z.string(),
  name: z.string(),
  handle: z.number().optional(),
  flags: z.array(z.string()),
  /** Preceded by "# Warning: table ip filter is managed by iptables-nft, do not touch!". */
  managedByIptablesNft: z.boolean(),
  chains: z.array(nftChainSchema),
  sets: z.array(nftSetSchema),
  objects: z.array(nftObjectSchema),
  rules: z.array(nftRuleSchema),
  provenance: provenanceSchema,
});
export type NftTable = z.infer<typeof nftTableSchema>;

export const nftNoticeSchema = z.object({
  kind: z.enum(["managed-by-iptables-nft", "warning", "error"]),
  family: z.string().optional(),
  table: z.string().optional(),
  text: z.string(),
  provenance: provenanceSchema,
});
export type NftNotice = z.infer<typeof nftNoticeSchema>;

export const nftSummarySchema = z.object({
  tables: z.number(),
  chains: z.number(),
  baseChains: z.number(),
  rules: z.number(),
  sets: z.number(),
  setElements: z.number(),
  rulesUsingCt: z.number(),
  natRules: z.number(),
  notrackRules: z.number(),
  logRules: z.number(),
  limitRules: z.number(),
  /** ct helper objects (`ct helper ftp-std { type "ftp" … }`) by name. */
  ctHelpers: z.array(z.string()),
  /** xt extension name → rules using it through nft_compat. */
  compat: z.record(z.string(), z.number()),
  /** keyword → rules using it. */
  keywords: z.record(z.string(), z.number()),
});
export type NftSummary = z.infer<typeof nftSummarySchema>;

export const nftRulesetSchema = z.object({
  tables: z.array(nftTableSchema),
  notices: z.array(nftNoticeSchema),
  summary: nftSummarySchema,
  /** nft version when the source said (JSON metainfo). */
  version: z.string().optional(),
});
export type NftRuleset = z.infer<typeof nftRulesetSchema>;

/** Expression and statement heads worth naming; anything else is ignored. */
export const NFT_KEYWORDS: ReadonlySet<string> = new Set([
  "ct", "meta", "snat", "dnat", "masquerade", "redirect", "notrack", "log", "limit", "counter", "quota",
  "reject", "queue", "fib", "numgen", "jhash", "symhash", "socket", "tproxy", "osf", "synproxy", "flow",
  "xt", "ip", "ip6", "tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "dccp", "th", "ether", "vlan", "arp",
  "rt", "ipsec", "esp", "ah", "comp", "frag", "hbh", "mh", "dst", "exthdr", "accept", "drop", "jump", "goto",
  "return", "continue", "vmap", "dup", "fwd", "meter", "update", "add", "last", "secmark", "inet",
  "connlimit", "set", "map", "igmp", "gre", "vxlan",
]);

/** Shorthand meta selectors nft prints without the `meta` word. */
export const META_SHORTHAND: ReadonlySet<string> = new Set([
  "iif", "oif", "iifname", "oifname", "iiftype", "oiftype", "mark", "skuid", "skgid", "nfproto", "l4proto",
  "priority", "rtclassid", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "random", "nftrace", "time", "day", "hour",
]);

/** Computes the ruleset summary after the tables are filled. */
export function summarise(tables: NftTable[]): NftSummary {
  const s: NftSummary = {
    tables: tables.length,
    chains: 0,
    baseChains: 0,
    rules: 0,
    sets: 0,
    setElements: 0,
    rulesUsingCt: 0,
    natRules: 0,
    notrackRules: 0,
    logRules: 0,
    limitRules: 0,
    ctHelpers: [],
    compat: {},
    keywords: {},
  };
  for (const t of tables) {
    s.chains += t.chains.length;
    s.baseChains += t.chains.filter((c) => c.base).length;
    s.sets += t.sets.length;
    for (const set of t.sets) s.setElements += set.elements;
    for (const o of t.objects) if (o.kind === "ct helper") s.ctHelpers.push(o.name);
    for (const r of t.rules) {
      s.rules++;
      if (r.ct.length > 0) s.rulesUsingCt++;
      if (r.nat.length > 0) s.natRules++;
      if (r.keywords.includes("notrack")) s.notrackRules++;
      if (r.keywords.includes("log")) s.logRules++;
      if (r.keywords.includes("limit")) s.limitRules++;
      for (const k of r.keywords) s.keywords[k] = (s.keywords[k] ?? 0) + 1;
      for (const c of r.compat) s.compat[c.name] = (s.compat[c.name] ?? 0) + 1;
    }
  }
  return s;
}
