/**
 * One view over every rule set in a bundle, whatever wrote it: iptables-save (default, legacy,
 * nft backends, per netns, saved files), `iptables -nvL` listings, nft text and JSON. Analyzers
 * ask "does any rule need conntrack?" or "which rules LOG without a limit?" once, here.
 */
import type { Facts } from "../../facts/facts.js";
import { modulesForNftRule, modulesForRule, needsConntrack, nftNeedsConntrack } from "../../parsers/netfilter-modules.js";

export type RuleOrigin =
  | "iptables-save"
  | "ip6tables-save"
  | "iptables-legacy-save"
  | "ip6tables-legacy-save"
  | "iptables-nft-save"
  | "ip6tables-nft-save"
  | "netns-rules"
  | "saved-rules"
  | "iptables-list"
  | "nft-ruleset"
  | "nft-ruleset-json"
  | "netns-nft-ruleset"
  | "saved-nft-rules";

export interface UnifiedRule {
  origin: RuleOrigin;
  /** Live rules (loaded in the kernel) or a saved file that boot would load. */
  live: boolean;
  family: string;
  table: string;
  chain: string;
  /** Match names (iptables) or expression keywords (nft). */
  matches: string[];
  /** Match options as written, joined (iptables-save), or the free text (listings), or the rule text (nft). */
  detail: string;
  target?: string;
  targetOptions?: string;
  needsConntrack: boolean;
  modules: string[];
  counters?: { packets: number; bytes: number };
  comment?: string;
  path: string;
  line: number;
  netns?: string;
}

export interface RuleSetView {
  origin: RuleOrigin;
  live: boolean;
  path: string;
  netns?: string;
  backend?: "nf_tables" | "legacy";
  rules: UnifiedRule[];
  chains: number;
  tables: string[];
}

const SAVE_SOURCES = ["iptables-save", "ip6tables-save", "iptables-legacy-save", "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save", "netns-rules", "saved-rules"] as const;
const NFT_SOURCES = ["nft-ruleset", "nft-ruleset-json", "netns-nft-ruleset", "saved-nft-rules"] as const;

const cache = new WeakMap<Facts, RuleSetView[]>();

interface RuleShape {
  matches: string[];
  needsConntrack: boolean;
  modules: string[];
}
const shapes = new Map<string, RuleShape>();
/**
 * What a rule needs depends only on its table, family, match names and target: rule sets of
 * 200,000 rules have a few dozen such shapes, so they share one (frozen) answer each.
 */
function ruleShape(table: string, family: "ipv4" | "ipv6", matches: string[], target: string | undefined, kernel: string | undefined): RuleShape {
  const key = `${table}\u0000${family}\u0000${matches.join(",")}\u0000${target ?? ""}\u0000${kernel ?? ""}`;
  let shape = shapes.get(key);
  if (!shape) {
    const input = { table, family, matches, ...(target ? { target } : {}) };
    shape = Object.freeze({ matches: Object.freeze([...matches]) as string[], needsConntrack: needsConntrack(input), modules: Object.freeze(modulesForRule(input, kernel)) as string[] });
    if (shapes.size > 10_000) shapes.clear();
    shapes.set(key, shape);
  }
  return shape;
}

export function ruleSets(facts: Facts): RuleSetView[] {
  const hit = cache.get(facts);
  if (hit) return hit;
  const kernel = facts.kernel?.value.raw;
  const out: RuleSetView[] = [];
  for (const id of SAVE_SOURCES) {
    for (const p of facts.sources(id)) {
      const live = id !== "saved-rules";
      const header = p.value.headers[0];
      const family = header?.family === "ipv6" || id.startsWith("ip6") ? "ipv6" : "ipv4";
      const rules: UnifiedRule[] = [];
      for (const t of p.value.tables)
        for (const r of t.rules) {
          const shape = ruleShape(t.name, family, r.matches.map((m) => m.name), r.target, kernel);
          rules.push({
            origin: id,
            live,
            family,
            table: t.name,
            chain: r.chain,
            matches: shape.matches,
            detail: r.matches.map((m) => `-m ${m.name} ${m.options}`.trim()).join(" "),
            ...(r.target ? { target: r.target } : {}),
            ...(r.targetOptions ? { targetOptions: r.targetOptions } : {}),
            needsConntrack: shape.needsConntrack,
            modules: shape.modules,
            ...(r.counters ? { counters: r.counters } : {}),
            ...(r.comment ? { comment: r.comment } : {}),
            path: p.path,
            line: r.provenance.line,
            ...(p.netns ? { netns: p.netns } : {}),
          });
        }
      out.push({
        origin: id,
        live,
        path: p.path,
        ...(p.netns ? { netns: p.netns } : {}),
        ...(header ? { backend: header.backend } : {}),
        rules,
        chains: p.value.totals.chains,
        tables: p.value.tables.map((t) => t.name),
      });
    }
  }
  for (const p of facts.sources("iptables-list")) {
    const rules: UnifiedRule[] = [];
    for (const t of p.value.tables)
      for (const r of t.rules) {
        const table = t.name === "unknown" ? "filter" : t.name;
        const shape = ruleShape(table, t.family, r.matches, r.target, kernel);
        rules.push({
          origin: "iptables-list",
          live: true,
          family: t.family,
          table,
          chain: r.chain,
          matches: shape.matches,
          detail: r.extra,
          ...(r.target ? { target: r.target } : {}),
          needsConntrack: shape.needsConntrack,
          modules: shape.modules,
          ...(r.counters ? { counters: r.counters } : {}),
          ...(r.comment ? { comment: r.comment } : {}),
          path: p.path,
          line: r.provenance.line,
        });
      }
    out.push({ origin: "iptables-list", live: true, path: p.path, rules, chains: p.value.tables.reduce((n, t) => n + t.chains.length, 0), tables: p.value.tables.map((t) => t.name) });
  }
  for (const id of NFT_SOURCES) {
    for (const p of facts.sources(id)) {
      const live = id !== "saved-nft-rules";
      const rules: UnifiedRule[] = [];
      for (const t of p.value.tables)
        for (const r of t.rules) {
          rules.push({
            origin: id,
            live,
            family: t.family,
            table: t.name,
            chain: r.chain,
            matches: r.keywords,
            detail: r.text ?? r.keywords.join(" "),
            ...(r.verdict ? { target: r.verdict } : r.jumpTarget ? { target: r.jumpTarget } : {}),
            needsConntrack: nftNeedsConntrack(r),
            modules: modulesForNftRule(r, kernel),
            ...(r.counter ? { counters: r.counter } : {}),
            path: p.path,
            line: r.provenance.line,
            ...(p.netns ? { netns: p.netns } : {}),
          });
        }
      out.push({
        origin: id,
        live,
        path: p.path,
        ...(p.netns ? { netns: p.netns } : {}),
        backend: "nf_tables",
        rules,
        chains: p.value.summary.chains,
        tables: p.value.tables.map((t) => `${t.family} ${t.name}`),
      });
    }
  }
  cache.set(facts, out);
  return out;
}

/**
 * Live rules only (what the kernel runs now), each rule once: the same rules appear in several
 * dumps (iptables-nft-save and `nft list ruleset` show one table; `-nvL` listings repeat
 * iptables-save; nft JSON repeats nft text), so prefer iptables-save, then listings, then nft text
 * (minus tables iptables-nft manages), then nft JSON.
 */
export function liveRules(facts: Facts): UnifiedRule[] {
  const sets = ruleSets(facts).filter((s) => s.live);
  const has = (o: RuleOrigin): boolean => sets.some((s) => s.origin === o);
  const hasSave = sets.some((s) => s.origin.includes("tables") && s.origin.endsWith("-save")) || has("netns-rules");
  const hasIptablesNft = sets.some((s) => s.origin.endsWith("-save") && s.backend === "nf_tables");
  const managed = new Set<string>();
  for (const id of NFT_SOURCES)
    for (const p of facts.sources(id)) for (const t of p.value.tables) if (t.managedByIptablesNft) managed.add(`${p.path}\u0000${t.family}\u0000${t.name}`);
  return sets
    .filter((s) => !(s.origin === "iptables-list" && hasSave))
    .filter((s) => !(s.origin === "nft-ruleset-json" && has("nft-ruleset")))
    .flatMap((s) =>
      s.origin === "nft-ruleset" && hasIptablesNft ? s.rules.filter((r) => !managed.has(`${r.path}\u0000${r.family}\u0000${r.table}`)) : s.rules,
    );
}

/** Whether any live rule source exists at all (absent ≠ "no rules"). */
export function hasLiveRuleSource(facts: Facts): boolean {
  return ruleSets(facts).some((s) => s.live);
}
