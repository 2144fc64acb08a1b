/**
 * Reads the `iptables -L` listing family: `iptables -nvL`, `-vnxL`, `-t nat -nvL`, `-L -n`,
 * `ip6tables …` — the format sos stores (sos_commands/networking/iptables_-vnxL,
 * sos_commands/firewall_tables/iptables_-t_nat_-nvL), several tables in one file when concatenated.
 * Real sample (sos 4.0, Debian 12, iptables 1.8.9 nf_tables backend):
 *
 *   # Warning: iptables-legacy tables present, use iptables-legacy to see them
 *   Chain INPUT (policy DROP 0 packets, 0 bytes)
 *       pkts      bytes target     prot opt in     out     source               destination
 *        256    14336 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
 *          0        0            6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22 ctstate NEW recent: SET name: ssh side: source mask: 255.255.255.255
 *          0        0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            limit: avg 5/min burst 5 LOG flags 0 level 4 prefix "INPUT-DROP: "
 *
 * The match summary after the destination column is free text; the matches it implies
 * (ctstate → conntrack, dpt: → tcp/udp, match-set → set, recent: → recent …) are inferred.
 * Counters in -nvL carry K/M/G/T suffixes (units of 1000): those are marked approximate.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import {
  BUILTIN_CHAINS,
  VERDICT_TARGETS,
  iptablesNoticeSchema,
  parseIptablesNotice,
  type IptablesNotice,
} from "./rules/iptables-notices.js";
import { WarningSink, clip, isBinaryGarbage, parseUint, prov, provenanceSchema, splitColumns } from "./rules/text.js";

const countersSchema = z.object({
  packets: z.number(),
  bytes: z.number(),
  /** True when a K/M/G/T suffix made the number approximate (`-nvL` without `-x`). */
  approximate: z.boolean().optional(),
});

export const listRuleSchema = z.object({
  chain: z.string(),
  /** Empty target column (a rule that only matches, e.g. `recent --set`) → undefined. */
  target: z.string().optional(),
  /** Protocol name; numeric columns of iptables ≥ 1.8.9 are mapped (0 → all, 6 → tcp). */
  protocol: z.string(),
  opt: z.string().optional(),
  inInterface: z.string().optional(),
  outInterface: z.string().optional(),
  source: z.string(),
  destination: z.string(),
  /** Free text after the destination column. */
  extra: z.string(),
  /** Matches inferred from `extra` (and from the protocol column). */
  matches: z.array(z.string()),
  comment: z.string().optional(),
  counters: countersSchema.optional(),
  provenance: provenanceSchema,
});
export type ListRule = z.infer<typeof listRuleSchema>;

export const listChainSchema = z.object({
  name: z.string(),
  policy: z.string().optional(),
  builtin: z.boolean(),
  /** Policy counters of a built-in chain. */
  counters: countersSchema.optional(),
  /** `(N references)` of a user chain. */
  references: z.number().optional(),
  ruleCount: z.number(),
  provenance: provenanceSchema,
});
export type ListChain = z.infer<typeof listChainSchema>;

export const listTableSchema = z.object({
  /** From the file name (`-t_nat`) or inferred from the built-in chains; "unknown" when neither says. */
  name: z.string(),
  nameSource: z.enum(["path", "chains", "default"]),
  family: z.enum(["ipv4", "ipv6"]),
  verbose: z.boolean(),
  chains: z.array(listChainSchema),
  rules: z.array(listRuleSchema),
  matchesUsed: z.record(z.string(), z.number()),
  targetsUsed: z.record(z.string(), z.number()),
  /** User chains with `(0 references)`. */
  unreferencedChains: z.array(z.string()),
  provenance: provenanceSchema,
});
export type ListTable = z.infer<typeof listTableSchema>;

export const schema = z.object({
  tables: z.array(listTableSchema),
  notices: z.array(iptablesNoticeSchema),
  totals: z.object({ tables: z.number(), chains: z.number(), rules: z.number() }),
});
export type IptablesList = z.infer<typeof schema>;

const PROTO_NUMBERS: Readonly<Record<string, string>> = {
  "0": "all", "1": "icmp", "2": "igmp", "4": "ipencap", "6": "tcp", "17": "udp", "41": "ipv6",
  "47": "gre", "50": "esp", "51": "ah", "58": "ipv6-icmp", "89": "ospf", "103": "pim", "112": "vrrp",
  "132": "sctp", "136": "udplite",
};

/**
 * Words of the match summary → match name. Keys are exact words; the value decides the match.
 * Sources: the `print` functions of the iptables extensions (libxt_*.c).
 */
const WORD_MATCHES: Readonly<Record<string, string>> = {
  ctstate: "conntrack", ctproto: "conntrack", ctorigsrc: "conntrack", ctorigdst: "conntrack",
  ctreplsrc: "conntrack", ctrepldst: "conntrack", ctstatus: "conntrack", ctexpire: "conntrack",
  ctdir: "conntrack", ctorigsrcport: "conntrack", ctorigdstport: "conntrack",
  state: "state",
  "match-set": "set",
  "limit:": "limit",
  "recent:": "recent",
  multiport: "multiport",
  ADDRTYPE: "addrtype",
  owner: "owner",
  "#conn": "connlimit",
  connbytes: "connbytes",
  "helper": "helper",
  "PHYSDEV": "physdev",
  "statistic": "statistic",
  "MAC": "mac",
  "PKTTYPE": "pkttype",
  "policy": "policy",
  "STRING": "string",
  "TIME": "time",
  "u32": "u32",
  "length": "length",
  "tcpmss": "tcpmss",
  "TTL": "ttl",
  "HL": "hl",
  "rpfilter": "rpfilter",
  "DSCP": "dscp",
  "TOS": "tos",
  "ECN": "ecn",
  "quota:": "quota",
  "nfacct-name": "nfacct",
  "cgroup": "cgroup",
  "socket": "socket",
  "cpu": "cpu",
  "devgroup": "devgroup",
  "bpf": "bpf",
  "connlabel": "connlabel",
  "cluster": "cluster",
  "realm": "realm",
  "rateest": "rateest",
  "ipvs": "ipvs",
  "vproto": "ipvs",
  "osf": "osf",
  "icmptype": "icmp",
  "ipv6-icmptype": "icmp6",
  "icmpv6": "icmp6",
  "sctp": "sctp",
  "dccp": "dccp",
  "esp": "esp",
  "ah": "ah",
  "frag": "frag",
  "hbh": "hbh",
  "dst": "dst",
  "rt": "rt",
  "ipv6header": "ipv6header",
  "mh": "mh",
};

/** Words that are the first word of the target's own summary: inference stops there. */
const TARGET_WORDS: ReadonlySet<string> = new Set([
  "LOG", "reject-with", "CT", "to:", "redir", "masq", "random-fully", "NFLOG", "NFQUEUE", "MARK", "CONNMARK",
  "TCPMSS", "SET", "DSCP", "TOS", "TTL", "HL", "CLASSIFY", "TPROXY", "TEE", "CHECKSUM", "AUDIT", "NOTRACK",
]);

const HOOK_ORDER = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/** Turns `123`, `45K`, `12M` into a number; marks K/M/G/T as approximate. */
function parseCount(text: string): { value: number; approx: boolean } | undefined {
  const last = text[text.length - 1];
  const mult = last === "K" ? 1e3 : last === "M" ? 1e6 : last === "G" ? 1e9 : last === "T" ? 1e12 : last === "P" ? 1e15 : 1;
  const digits = mult === 1 ? text : text.slice(0, -1);
  const n = parseUint(digits);
  return n === undefined ? undefined : { value: n * mult, approx: mult !== 1 };
}

function isOptColumn(text: string | undefined): boolean {
  return text !== undefined && text.length === 2 && (text[0] === "-" || text[0] === "!") && (text[1] === "-" || text[1] === "f");
}

/** Infers the matches named by a rule's free-text summary. */
export function inferMatches(extra: string, protocol: string): string[] {
  const found = new Set<string>();
  // Comments first so words inside them are not read as matches.
  let text = extra;
  const open = text.indexOf("/* ");
  if (open >= 0) {
    const close = text.indexOf(" */", open + 3);
    found.add("comment");
    text = text.slice(0, open) + (close >= 0 ? text.slice(close + 3) : "");
  }
  const words = splitColumns(text, 4096);
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!.text;
    if (w === "!") continue;
    if (w[0] === "!") w = w.slice(1);
    if (TARGET_WORDS.has(w)) break;
    if (w.startsWith("dpt:") || w.startsWith("spt:") || w.startsWith("dpts:") || w.startsWith("spts:") || w.startsWith("flags:") || w === "option=") {
      const p = protocol === "udp" || protocol === "udplite" || protocol === "sctp" || protocol === "dccp" ? protocol : "tcp";
      // multiport prints "dports"/"sports" without a colon: handled via "multiport".
      found.add(p);
      continue;
    }
    if (w === "tcp" || w === "udp" || w === "udplite") {
      found.add(w);
      continue;
    }
    if (w === "limit:") {
      const next = words[i + 1]?.text;
      found.add(next === "up" || next === "above" ? "hashlimit" : "limit");
      continue;
    }
    if (w === "mark" && words[i + 1]?.text === "match") {
      found.add("mark");
      continue;
    }
    if (w === "connmark" && words[i + 1]?.text === "match") {
      found.add("connmark");
      continue;
    }
    if (w === "source" || w === "destination") {
      if (words[i + 1]?.text === "IP" && words[i + 2]?.text === "range") found.add("iprange");
      continue;
    }
    if (w === "icmp" && words[i + 1]) {
      found.add("icmp"); // non-numeric -L prints "icmp echo-request"
      continue;
    }
    const m = WORD_MATCHES[w];
    if (m) found.add(m);
  }
  return [...found];
}

/** `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)` / `Chain X (1 references)` / `Chain INPUT (policy ACCEPT)` */
function parseChainHeader(line: string): Omit<ListChain, "provenance" | "ruleCount"> | undefined {
  const open = line.indexOf(" (", 6);
  if (open < 0) return { name: line.slice(6).trim(), builtin: false };
  const name = line.slice(6, open);
  const inner = line.slice(open + 2, line.lastIndexOf(")") > open ? line.lastIndexOf(")") : undefined);
  const words = splitColumns(inner, 8).map((t) => t.text);
  if (words[0] === "policy") {
    const chain: Omit<ListChain, "provenance" | "ruleCount"> = { name, builtin: true };
    if (words[1]) chain.policy = words[1];
    const p = words[2] ? parseCount(words[2]) : undefined;
    const b = words[4] ? parseCount(words[4]) : undefined;
    if (p && b) chain.counters = { packets: p.value, bytes: b.value, ...(p.approx || b.approx ? { approximate: true } : {}) };
    return chain;
  }
  const refs = parseUint(words[0]);
  return { name, builtin: false, ...(refs !== undefined ? { references: refs } : {}) };
}

/** Table named in the file name: `iptables_-t_nat_-nvL`, `iptables -t mangle -L`. */
function tableFromPath(path: string): string | undefined {
  for (const sep of ["-t_", "-t ", "--table=", "--table_"]) {
    const at = path.lastIndexOf(sep);
    if (at >= 0) {
      const rest = path.slice(at + sep.length);
      let end = 0;
      while (end < rest.length && /[a-z]/.test(rest[end]!)) end++;
      if (end > 0) return rest.slice(0, end);
    }
  }
  return undefined;
}

function tableFromChains(names: string[]): string | undefined {
  const set = new Set(names);
  const has = (c: string) => set.has(c);
  if (has("PREROUTING") && has("FORWARD") && has("POSTROUTING")) return "mangle";
  if (has("PREROUTING") && has("POSTROUTING")) return "nat";
  if (has("PREROUTING") && has("OUTPUT") && !has("INPUT")) return "raw";
  if (has("INPUT") && has("FORWARD") && has("OUTPUT")) return "filter";
  return undefined;
}

export const create: ParserFactory<IptablesList> = (ctx) => {
  const path = ctx.path;
  const warnings = new WarningSink(path);
  const pathTable = tableFromPath(path);
  const pathV6 = path.includes("ip6tables");
  const tables: ListTable[] = [];
  const notices: IptablesNotice[] = [];
  let table: ListTable | undefined;
  let chain: ListChain | undefined;
  let verbose = false;
  let targetCol = -1;
  let lastLine = 0;

  const closeTable = () => {
    if (!table) return;
    if (chain) table.provenance = prov(path, table.provenance.line, chain.provenance.lastLine ?? chain.provenance.line);
    const inferred = tableFromChains(table.chains.filter((c) => c.builtin).map((c) => c.name));
    if (table.nameSource === "default" && inferred) {
      table.name = inferred;
      table.nameSource = "chains";
    }
    table.unreferencedChains = table.chains.filter((c) => !c.builtin && c.references === 0).map((c) => c.name);
    tables.push(table);
    table = undefined;
    chain = undefined;
  };

  const newTable = (lineNo: number): ListTable => ({
    name: tables.length === 0 && pathTable ? pathTable : "unknown",
    nameSource: tables.length === 0 && pathTable ? "path" : "default",
    family: pathV6 ? "ipv6" : "ipv4",
    verbose: false,
    chains: [],
    rules: [],
    matchesUsed: {},
    targetsUsed: {},
    unreferencedChains: [],
    provenance: { path, line: lineNo },
  });

  const parseRule = (line: string, lineNo: number) => {
    if (!table || !chain) {
      warnings.add("rule line before any Chain header", lineNo);
      return;
    }
    const cols = splitColumns(line, verbose ? 10 : 6);
    let k = 0;
    let counters: ListRule["counters"];
    if (verbose) {
      const p = parseCount(cols[0]?.text ?? "");
      const b = parseCount(cols[1]?.text ?? "");
      if (!p || !b) {
        warnings.add("rule line without packet/byte counters", lineNo);
        return;
      }
      counters = { packets: p.value, bytes: b.value, ...(p.approx || b.approx ? { approximate: true } : {}) };
      k = 2;
    }
    // Empty target: the opt column comes one place earlier; without an opt column (old ip6tables)
    // look at the header's target column.
    let hasTarget: boolean;
    if (isOptColumn(cols[k + 1]?.text)) hasTarget = false;
    else if (isOptColumn(cols[k + 2]?.text)) hasTarget = true;
    else hasTarget = !(targetCol >= 0 && targetCol < line.length && (line[targetCol] === " " || line[targetCol] === "\t"));
    const target = hasTarget ? cols[k++]?.text : undefined;
    const protoText = cols[k++]?.text ?? "";
    const opt = isOptColumn(cols[k]?.text) ? cols[k++]!.text : undefined;
    let inIf: string | undefined;
    let outIf: string | undefined;
    if (verbose) {
      inIf = cols[k++]?.text;
      outIf = cols[k++]?.text;
    }
    const src = cols[k++];
    const dst = cols[k++];
    if (!src || !dst) {
      warnings.add("rule line with missing columns", lineNo);
      return;
    }
    const protocol = PROTO_NUMBERS[protoText] ?? protoText;
    const extra = clip(line.slice(dst.end).trim());
    const bare = protocol[0] === "!" ? protocol.slice(1) : protocol;
    const matches = inferMatches(extra, bare);
    const rule: ListRule = {
      chain: chain.name,
      protocol,
      source: src.text,
      destination: dst.text,
      extra,
      matches,
      provenance: { path, line: lineNo },
    };
    if (target) rule.target = target;
    if (opt) rule.opt = opt;
    if (inIf !== undefined) rule.inInterface = inIf;
    if (outIf !== undefined) rule.outInterface = outIf;
    if (counters) rule.counters = counters;
    const c = extra.indexOf("/* ");
    if (c >= 0) {
      const e = extra.indexOf(" */", c + 3);
      rule.comment = extra.slice(c + 3, e >= 0 ? e : undefined);
    }
    table.rules.push(rule);
    chain.ruleCount++;
    chain.provenance = prov(path, chain.provenance.line, lineNo);
    for (const m of matches) table.matchesUsed[m] = (table.matchesUsed[m] ?? 0) + 1;
    if (target) table.targetsUsed[target] = (table.targetsUsed[target] ?? 0) + 1;
  };

  return {
    push(line, lineNo) {
      lastLine = lineNo;
      if (line.length === 0) return;
      if (isBinaryGarbage(line)) {
        warnings.add("binary data skipped", lineNo);
        return;
      }
      if (line.startsWith("Chain ")) {
        const header = parseChainHeader(line);
        if (!header || header.name.length === 0) {
          warnings.add("unreadable Chain header", lineNo);
          return;
        }
        // Listings print built-in chains in hook order, then user chains: a built-in chain seen twice,
        // out of order or after a user chain starts the next table of a concatenated file.
        if (table && header.builtin) {
          const rank = HOOK_ORDER.indexOf(header.name);
          const last = table.chains[table.chains.length - 1];
          const lastRank = last && last.builtin ? HOOK_ORDER.indexOf(last.name) : -1;
          if ((last && !last.builtin) || rank <= lastRank || table.chains.some((c) => c.name === header.name)) closeTable();
        }
        if (!table) table = newTable(lineNo);
        if (header.builtin && !(BUILTIN_CHAINS[table.name] ?? [header.name]).includes(header.name) && table.nameSource === "path") {
          warnings.add(`built-in chain ${header.name} is not part of table ${table.name}`, lineNo);
        }
        chain = { ...header, ruleCount: 0, provenance: { path, line: lineNo } };
        table.chains.push(chain);
        targetCol = -1;
        return;
      }
      const trimmedStart = line.trimStart();
      if (trimmedStart.startsWith("pkts ") || trimmedStart.startsWith("target ")) {
        verbose = trimmedStart.startsWith("pkts ");
        if (table) table.verbose = verbose;
        targetCol = line.indexOf("target");
        return;
      }
      if (trimmedStart.startsWith("#") || trimmedStart.startsWith("iptables") || trimmedStart.startsWith("ip6tables")) {
        const notice = parseIptablesNotice(trimmedStart, path, lineNo);
        if (notice) {
          notices.push(notice);
          return;
        }
        if (trimmedStart.startsWith("#")) return;
      }
      if (line.trim().length === 0) return;
      if (!chain) {
        warnings.add("unrecognised line before any Chain header", lineNo);
        return;
      }
      parseRule(line, lineNo);
    },
    end() {
      closeTable();
      for (const t of tables) {
        if (t.family === "ipv4" && t.rules.some((r) => r.source.includes(":") || r.destination.includes(":"))) t.family = "ipv6";
      }
      void lastLine;
      const chains = tables.reduce((n, t) => n + t.chains.length, 0);
      const rules = tables.reduce((n, t) => n + t.rules.length, 0);
      return { value: { tables, notices, totals: { tables: tables.length, chains, rules } }, warnings: warnings.finish() };
    },
  };
};

/** Targets that name a user chain (not a verdict or an extension target) need the chain to exist. */
export function isChainTarget(target: string, chainNames: ReadonlySet<string>): boolean {
  return !VERDICT_TARGETS.has(target) && chainNames.has(target);
}
