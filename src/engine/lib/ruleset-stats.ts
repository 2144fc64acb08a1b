/**
 * Rule-set statistics for the rule-set, ipset and logging analyzers: per-view rule and chain
 * counts, rules that differ only by one address (ipset/nft-set consolidation candidates),
 * duplicates, unreferenced user chains, chains reached from hot hooks, and the command name that
 * edits a given view (iptables / iptables-legacy / iptables-nft / ip6tables…).
 *
 * `rulesets.ts` gives one unified view of every rule; it keeps matches but not the -s/-d columns
 * nor the position of a rule inside its chain, which consolidation and `iptables -R CHAIN N` need,
 * so this module reads the parsed iptables-save / listing / nft sources again (cheap: one pass).
 */
import type { Facts } from "../../facts/facts.js";
import type { IptablesList } from "../../parsers/iptables-list.js";
import type { IptablesSave } from "../../parsers/iptables-save.js";
import type { NftRuleset } from "../../parsers/rules/nft-model.js";
import type { Evidence } from "../../report/schema.js";
import { type RuleOrigin, ruleSets } from "./rulesets.js";

/** One rule with the columns consolidation needs. */
export interface RawRule {
  origin: RuleOrigin;
  live: boolean;
  family: "ipv4" | "ipv6";
  table: string;
  chain: string;
  /** 1-based position inside its chain in this view (what `iptables -R/-D CHAIN N` takes). */
  position: number;
  source?: string;
  destination?: string;
  /** The rule without its address of `field`, used to group rules of one shape. */
  shapeBySource: string;
  shapeByDestination: string;
  /** Everything of the rule but the chain and counters: exact duplicates share it. */
  identity: string;
  /** The rule as iptables-save prints it (`-A CHAIN …`), counters removed; listings: reconstructed. */
  spec: string;
  target?: string;
  matches: string[];
  counters?: { packets: number; bytes: number };
  path: string;
  line: number;
  netns?: string;
  /** nft rule handle (`nft -a`). */
  handle?: number;
  /** Format of the view. */
  kind: "save" | "list" | "nft";
}

export interface ConsolidationGroup {
  origin: RuleOrigin;
  path: string;
  family: "ipv4" | "ipv6";
  table: string;
  chain: string;
  field: "source" | "destination";
  target?: string;
  /** The shared rule text with the address removed. */
  shape: string;
  rules: RawRule[];
  kind: RawRule["kind"];
}

export interface DuplicateGroup {
  table: string;
  chain: string;
  rules: RawRule[];
}

export interface RuleSetStats {
  origin: RuleOrigin;
  path: string;
  live: boolean;
  netns?: string;
  backend?: "nf_tables" | "legacy";
  family: "ipv4" | "ipv6" | "mixed";
  kind: RawRule["kind"];
  rules: number;
  chains: number;
  userChains: number;
  unreferencedChains: { table: string; chain: string; path: string; line: number }[];
  duplicates: DuplicateGroup[];
  groups: ConsolidationGroup[];
  raw: RawRule[];
}

/** Smallest group of same-shape single-address rules worth turning into a set. */
export const MIN_CONSOLIDATION_GROUP = 10;

const SAVE_ORIGINS = ["iptables-save", "ip6tables-save", "iptables-legacy-save", "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save", "netns-rules", "saved-rules"] as const;
const NFT_ORIGINS = ["nft-ruleset", "nft-ruleset-json", "netns-nft-ruleset", "saved-nft-rules"] as const;

const ANY = new Set(["0.0.0.0/0", "::/0", "anywhere"]);

/** Strips a leading `[p:b] ` counter block of `iptables-save -c`. */
function stripCounters(line: string): string {
  return line.replace(/^\[\d+:\d+\]\s+/, "").trim();
}

/** Removes `-s ADDR` / `-d ADDR` (with a possible `!`) from a save rule text. */
function withoutAddress(spec: string, flag: "-s" | "-d"): string {
  const re = flag === "-s" ? /(^|\s)(?:! )?-s (\S+)(?=\s|$)/ : /(^|\s)(?:! )?-d (\S+)(?=\s|$)/;
  return spec.replace(re, `$1${flag} <ADDR>`).replace(/\s+/g, " ").trim();
}

function saveRaw(facts: Facts, origin: RuleOrigin, path: string, value: IptablesSave, live: boolean, netns?: string): RawRule[] {
  const out: RawRule[] = [];
  const header = value.headers[0];
  const fam: "ipv4" | "ipv6" = header?.family === "ipv6" || origin.startsWith("ip6") || /rules\.v6$|ip6tables$/.test(path) ? "ipv6" : "ipv4";
  for (const t of value.tables) {
    const pos = new Map<string, number>();
    for (const r of t.rules) {
      const n = (pos.get(r.chain) ?? 0) + 1;
      pos.set(r.chain, n);
      const lineText = facts.lineText(path, r.provenance.line);
      const spec = lineText !== undefined && /-A\s/.test(lineText) ? stripCounters(lineText) : synthSaveSpec(r);
      const body = spec.replace(/^-A \S+\s*/, "");
      out.push({
        origin,
        live,
        family: fam,
        table: t.name,
        chain: r.chain,
        position: n,
        ...(r.source !== undefined ? { source: r.source } : {}),
        ...(r.destination !== undefined ? { destination: r.destination } : {}),
        shapeBySource: r.source !== undefined && !r.source.startsWith("!") ? withoutAddress(body, "-s") : "",
        shapeByDestination: r.destination !== undefined && !r.destination.startsWith("!") ? withoutAddress(body, "-d") : "",
        identity: body,
        spec,
        ...(r.target ? { target: r.target } : {}),
        matches: r.matches.map((m) => m.name),
        ...(r.counters ? { counters: r.counters } : {}),
        path,
        line: r.provenance.line,
        ...(netns ? { netns } : {}),
        kind: "save",
      });
    }
  }
  return out;
}

function synthSaveSpec(r: IptablesSave["tables"][number]["rules"][number]): string {
  const parts = [`-A ${r.chain}`];
  if (r.source) parts.push(r.source.startsWith("!") ? `! -s ${r.source.slice(1)}` : `-s ${r.source}`);
  if (r.destination) parts.push(r.destination.startsWith("!") ? `! -d ${r.destination.slice(1)}` : `-d ${r.destination}`);
  if (r.inInterface) parts.push(`-i ${r.inInterface}`);
  if (r.outInterface) parts.push(`-o ${r.outInterface}`);
  if (r.protocol) parts.push(`-p ${r.protocol}`);
  for (const m of r.matches) if (!m.implicit) parts.push(`-m ${m.name} ${m.options}`.trim());
  if (r.target) parts.push(`${r.goto ? "-g" : "-j"} ${r.target}${r.targetOptions ? ` ${r.targetOptions}` : ""}`);
  return parts.join(" ");
}

function listRaw(path: string, value: IptablesList): RawRule[] {
  const out: RawRule[] = [];
  for (const t of value.tables) {
    const table = t.name === "unknown" ? "filter" : t.name;
    const pos = new Map<string, number>();
    for (const r of t.rules) {
      const n = (pos.get(r.chain) ?? 0) + 1;
      pos.set(r.chain, n);
      const src = ANY.has(r.source) ? undefined : r.source;
      const dst = ANY.has(r.destination) ? undefined : r.destination;
      const cols = (s: string, d: string) => [r.target ?? "", r.protocol, r.opt ?? "", r.inInterface ?? "*", r.outInterface ?? "*", s, d, r.extra].join(" ").replace(/\s+/g, " ").trim();
      const parts = [`-A ${r.chain}`];
      if (src) parts.push(`-s ${src}`);
      if (dst) parts.push(`-d ${dst}`);
      if (r.inInterface && r.inInterface !== "*") parts.push(`-i ${r.inInterface}`);
      if (r.outInterface && r.outInterface !== "*") parts.push(`-o ${r.outInterface}`);
      if (r.protocol && r.protocol !== "all") parts.push(`-p ${r.protocol}`);
      if (r.target) parts.push(`-j ${r.target}`);
      out.push({
        origin: "iptables-list",
        live: true,
        family: t.family,
        table,
        chain: r.chain,
        position: n,
        ...(src ? { source: src } : {}),
        ...(dst ? { destination: dst } : {}),
        shapeBySource: src ? cols("<ADDR>", r.destination) : "",
        shapeByDestination: dst ? cols(r.source, "<ADDR>") : "",
        identity: cols(r.source, r.destination),
        spec: parts.join(" ") + (r.extra ? `  # listing: ${r.extra}` : ""),
        ...(r.target ? { target: r.target } : {}),
        matches: r.matches,
        ...(r.counters ? { counters: { packets: r.counters.packets, bytes: r.counters.bytes } } : {}),
        path,
        line: r.provenance.line,
        kind: "list",
      });
    }
  }
  return out;
}

const NFT_ADDR = /\b(ip6? [sd]addr) (?:!= )?([0-9a-fA-F.:/]+)(?=\s|$)/;

function nftRaw(origin: RuleOrigin, path: string, value: NftRuleset, live: boolean, netns?: string): RawRule[] {
  const out: RawRule[] = [];
  for (const t of value.tables) {
    const pos = new Map<string, number>();
    for (const r of t.rules) {
      const n = (pos.get(r.chain) ?? 0) + 1;
      pos.set(r.chain, n);
      const text = (r.text ?? r.keywords.join(" ")).replace(/counter packets \d+ bytes \d+ ?/, "counter ").trim();
      const m = NFT_ADDR.exec(text);
      const isSrc = m?.[1]?.endsWith("saddr") ?? false;
      const shape = m ? text.replace(NFT_ADDR, "$1 <ADDR>") : "";
      out.push({
        origin,
        live,
        family: t.family === "ip6" ? "ipv6" : "ipv4",
        table: `${t.family} ${t.name}`,
        chain: r.chain,
        position: n,
        ...(m && isSrc ? { source: m[2] } : {}),
        ...(m && !isSrc ? { destination: m[2] } : {}),
        shapeBySource: m && isSrc ? shape : "",
        shapeByDestination: m && !isSrc ? shape : "",
        identity: text,
        spec: text,
        ...(r.verdict ? { target: r.verdict === "jump" || r.verdict === "goto" ? r.jumpTarget ?? r.verdict : r.verdict } : {}),
        matches: r.keywords,
        ...(r.counter ? { counters: r.counter } : {}),
        path,
        line: r.provenance.line,
        ...(r.handle !== undefined ? { handle: r.handle } : {}),
        ...(netns ? { netns } : {}),
        kind: "nft",
      });
    }
  }
  return out;
}

function groupsOf(origin: RuleOrigin, path: string, kind: RawRule["kind"], raw: RawRule[]): ConsolidationGroup[] {
  const buckets = new Map<string, ConsolidationGroup>();
  for (const r of raw) {
    for (const field of ["source", "destination"] as const) {
      const shape = field === "source" ? r.shapeBySource : r.shapeByDestination;
      if (!shape) continue;
      const key = `${r.table}\u0000${r.chain}\u0000${field}\u0000${shape}`;
      let g = buckets.get(key);
      if (!g) buckets.set(key, (g = { origin, path, family: r.family, table: r.table, chain: r.chain, field, ...(r.target ? { target: r.target } : {}), shape, rules: [], kind }));
      g.rules.push(r);
    }
  }
  const groups = [...buckets.values()].filter((g) => new Set(g.rules.map((r) => (g.field === "source" ? r.source : r.destination))).size >= MIN_CONSOLIDATION_GROUP);
  // A rule set with many -s rules that all share one -d would give two groups of the same rules: keep the larger one.
  groups.sort((a, b) => b.rules.length - a.rules.length);
  const used = new Set<RawRule>();
  const kept: ConsolidationGroup[] = [];
  for (const g of groups) {
    const fresh = g.rules.filter((r) => !used.has(r));
    if (fresh.length < MIN_CONSOLIDATION_GROUP) continue;
    for (const r of fresh) used.add(r);
    kept.push({ ...g, rules: fresh });
  }
  return kept;
}

function duplicatesOf(raw: RawRule[]): DuplicateGroup[] {
  const by = new Map<string, RawRule[]>();
  for (const r of raw) {
    const k = `${r.table}\u0000${r.chain}\u0000${r.identity}`;
    const list = by.get(k);
    if (list) list.push(r);
    else by.set(k, [r]);
  }
  return [...by.values()].filter((l) => l.length > 1).map((l) => ({ table: l[0]!.table, chain: l[0]!.chain, rules: l }));
}

const statsCache = new WeakMap<Facts, RuleSetStats[]>();

/** Statistics of every rule view in the bundle (live and saved), one entry per file. */
export function ruleSetStats(facts: Facts): RuleSetStats[] {
  const hit = statsCache.get(facts);
  if (hit) return hit;
  const views = ruleSets(facts);
  const out: RuleSetStats[] = [];
  const familyOf = (raw: RawRule[]): RuleSetStats["family"] => {
    const f = new Set(raw.map((r) => r.family));
    return f.size > 1 ? "mixed" : f.has("ipv6") ? "ipv6" : "ipv4";
  };
  for (const id of SAVE_ORIGINS)
    for (const p of facts.sources(id)) {
      const live = id !== "saved-rules";
      const raw = saveRaw(facts, id, p.path, p.value, live, p.netns);
      const view = views.find((v) => v.path === p.path && v.origin === id);
      const unref = p.value.tables.flatMap((t) =>
        t.unreferencedChains.map((c) => {
          const ch = t.chains.find((x) => x.name === c);
          return { table: t.name, chain: c, path: p.path, line: ch?.provenance.line ?? t.provenance.line };
        }),
      );
      out.push({
        origin: id,
        path: p.path,
        live,
        ...(p.netns ? { netns: p.netns } : {}),
        ...(view?.backend ? { backend: view.backend } : {}),
        family: raw.length ? familyOf(raw) : p.value.headers[0]?.family === "ipv6" ? "ipv6" : "ipv4",
        kind: "save",
        rules: p.value.totals.rules,
        chains: p.value.totals.chains,
        userChains: p.value.tables.reduce((n, t) => n + t.chains.filter((c) => !c.builtin).length, 0),
        unreferencedChains: unref,
        duplicates: duplicatesOf(raw),
        groups: groupsOf(id, p.path, "save", raw),
        raw,
      });
    }
  for (const p of facts.sources("iptables-list")) {
    const raw = listRaw(p.path, p.value);
    out.push({
      origin: "iptables-list",
      path: p.path,
      live: true,
      family: raw.length ? familyOf(raw) : p.value.tables[0]?.family ?? "ipv4",
      kind: "list",
      rules: p.value.totals.rules,
      chains: p.value.totals.chains,
      userChains: p.value.tables.reduce((n, t) => n + t.chains.filter((c) => !c.builtin).length, 0),
      unreferencedChains: p.value.tables.flatMap((t) =>
        t.unreferencedChains.map((c) => ({ table: t.name, chain: c, path: p.path, line: t.chains.find((x) => x.name === c)?.provenance.line ?? t.provenance.line })),
      ),
      duplicates: duplicatesOf(raw),
      groups: groupsOf("iptables-list", p.path, "list", raw),
      raw,
    });
  }
  for (const id of NFT_ORIGINS)
    for (const p of facts.sources(id)) {
      const live = id !== "saved-nft-rules";
      const raw = nftRaw(id, p.path, p.value, live, p.netns);
      const unref: RuleSetStats["unreferencedChains"] = [];
      for (const t of p.value.tables) {
        const jumped = new Set(t.rules.map((r) => r.jumpTarget).filter((x): x is string => !!x));
        // vmap targets are not parsed into jumpTarget: look for the chain name in rule texts too.
        const texts = t.rules.map((r) => r.text ?? "").join("\n");
        for (const c of t.chains) if (!c.base && !jumped.has(c.name) && !new RegExp(`(jump|goto) ${escapeRe(c.name)}\\b`).test(texts)) unref.push({ table: `${t.family} ${t.name}`, chain: c.name, path: p.path, line: c.provenance.line });
      }
      out.push({
        origin: id,
        path: p.path,
        live,
        ...(p.netns ? { netns: p.netns } : {}),
        backend: "nf_tables",
        family: raw.length ? familyOf(raw) : "ipv4",
        kind: "nft",
        rules: p.value.summary.rules,
        chains: p.value.summary.chains,
        userChains: p.value.summary.chains - p.value.summary.baseChains,
        unreferencedChains: unref,
        duplicates: duplicatesOf(raw),
        groups: groupsOf(id, p.path, "nft", raw),
        raw,
      });
    }
  statsCache.set(facts, out);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * nft tables written by iptables-nft (same rules as the iptables-*-save views): flagged by nft's
 * "managed by iptables-nft" notice when the bundle kept it (stderr is often not kept), holding
 * nft_compat rules in an iptables table name, or dumped by an nf_tables iptables-save in the same
 * bundle and namespace (iptables-nft-save prints exactly the `ip`/`ip6` tables of those names).
 */
export function iptablesNftManagedTables(facts: Facts, path: string): Set<string> {
  const out = new Set<string>();
  let netns: string | undefined;
  for (const id of NFT_ORIGINS)
    for (const p of facts.sources(id))
      if (p.path === path) {
        netns = p.netns;
        for (const t of p.value.tables) if (t.managedByIptablesNft || (t.rules.some((r) => r.compat.length > 0) && /^(filter|nat|mangle|raw|security)$/.test(t.name))) out.add(`${t.family} ${t.name}`);
      }
  for (const id of SAVE_ORIGINS) {
    if (id === "saved-rules") continue;
    for (const p of facts.sources(id)) {
      if (p.netns !== netns) continue;
      const backend = p.value.headers[0]?.backend;
      if (backend !== "nf_tables" && !id.includes("-nft-")) continue;
      const fam = id.startsWith("ip6") || p.value.headers[0]?.family === "ipv6" ? "ip6" : "ip";
      for (const t of p.value.tables) out.add(`${fam} ${t.name}`);
    }
  }
  return out;
}

/**
 * The live views to read so that each live rule is seen once: save outputs first, listings only
 * for a family no save output covers, nft text (else JSON) for tables iptables-nft did not write.
 * Netns views are kept (their rules are different rules).
 */
export function primaryLiveStats(facts: Facts): RuleSetStats[] {
  const all = ruleSetStats(facts).filter((s) => s.live);
  const saves = all.filter((s) => s.kind === "save" && !s.netns && s.rules > 0);
  const saveFamilies = new Set(saves.map((s) => s.family));
  const out: RuleSetStats[] = [...saves];
  for (const s of all.filter((x) => x.kind === "list")) if (!saveFamilies.has(s.family) && !saveFamilies.has("mixed")) out.push(s);
  const nftText = all.filter((s) => s.origin === "nft-ruleset");
  const nftViews = nftText.length ? nftText : all.filter((s) => s.origin === "nft-ruleset-json");
  const haveIptablesView = out.length > 0;
  for (const s of nftViews) {
    const managed = iptablesNftManagedTables(facts, s.path);
    const raw = haveIptablesView ? s.raw.filter((r) => !managed.has(r.table)) : s.raw;
    if (raw.length === 0) continue;
    out.push({ ...s, raw, rules: raw.length, duplicates: duplicatesOf(raw), groups: groupsOf(s.origin, s.path, "nft", raw) });
  }
  for (const s of all) if (s.netns) out.push(s);
  return out;
}

/** Base-chain hooks of nft chains by `family table` + chain (from the text or JSON ruleset). */
export function nftChainHooks(facts: Facts, path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of NFT_ORIGINS)
    for (const p of facts.sources(id)) if (p.path === path) for (const t of p.value.tables) for (const c of t.chains) if (c.hook) out.set(`${t.family} ${t.name}\u0000${c.name}`, c.hook);
  return out;
}

export const HOT_BUILTIN_CHAINS = new Set(["INPUT", "FORWARD", "PREROUTING"]);
const HOT_NFT_HOOKS = new Set(["input", "forward", "prerouting", "ingress"]);

/**
 * Chains of one view that packets on a hot path reach: built-in INPUT/FORWARD/PREROUTING (nft:
 * base chains on input/forward/prerouting/ingress) and every chain jumped to from them without a
 * rate limit on the jump.
 */
export function hotChains(facts: Facts, stats: RuleSetStats): Set<string> {
  const key = (table: string, chain: string) => `${table}\u0000${chain}`;
  const hot = new Set<string>();
  const hooks = stats.kind === "nft" ? nftChainHooks(facts, stats.path) : undefined;
  const tables = new Set(stats.raw.map((r) => r.table));
  for (const t of tables) {
    if (hooks) {
      for (const [k, hook] of hooks) if (k.startsWith(`${t}\u0000`) && HOT_NFT_HOOKS.has(hook)) hot.add(k);
    } else for (const c of HOT_BUILTIN_CHAINS) hot.add(key(t, c));
  }
  // Chains that hold rules, once: a jump to a verdict (ACCEPT, DROP) is not a chain. Jumps from a
  // hot chain make the target hot; a breadth-first walk visits each rule at most once per chain.
  const rulesByChain = new Map<string, RawRule[]>();
  for (const r of stats.raw) {
    const k = key(r.table, r.chain);
    const list = rulesByChain.get(k);
    if (list) list.push(r);
    else rulesByChain.set(k, [r]);
  }
  const queue = [...hot];
  while (queue.length > 0) {
    for (const r of rulesByChain.get(queue.pop()!) ?? []) {
      if (!r.target || isRateLimited(r)) continue;
      const k = key(r.table, r.target);
      if (!hot.has(k) && rulesByChain.has(k)) {
        hot.add(k);
        queue.push(k);
      }
    }
  }
  return hot;
}

export function isRateLimited(r: RawRule): boolean {
  if (r.kind === "nft") return /\blimit rate\b/.test(r.spec) || r.matches.includes("limit");
  return r.matches.includes("limit") || r.matches.includes("hashlimit");
}

/** The command that edits the rules of a view: iptables, ip6tables, iptables-legacy, iptables-nft… */
export function iptablesCommand(origin: RuleOrigin, family: "ipv4" | "ipv6" | "mixed"): string {
  const base = family === "ipv6" ? "ip6tables" : "iptables";
  if (origin.includes("legacy")) return `${base}-legacy`;
  if (origin.endsWith("-nft-save")) return `${base}-nft`;
  return base;
}

/** Quote a string for a POSIX shell when it needs it. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Evidence for one raw rule, quoting the bundle line. */
export function ruleEvidence(facts: Facts, r: RawRule, note?: string, highlight?: string): Evidence {
  const ev = facts.evidence(r.origin, { path: r.path, line: r.line }, r.spec, note ? { note } : {});
  return highlight && ev.text.includes(highlight) ? { ...ev, highlight } : ev;
}

/** Next power of two ≥ n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
