/**
 * One view over every rule set in a bundle, whatever wrote it: iptables-save (default, legacy,
 * nft backends, per netns, saved files), `iptables -nvL` listings, nft text and JSON. Analyzers
 * ask "does any rule need conntrack?" or "which rules LOG without a limit?" once, here.
 */
import type { Facts } from "../../facts/facts.js";
import type { SaveMatch, SaveRule } from "../../parsers/iptables-save.js";
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

export interface RuleShape {
  matches: string[];
  needsConntrack: boolean;
  modules: string[];
}

/**
 * What a rule needs depends only on its table, family, match names and target: rule sets of
 * 200,000 rules have a few dozen such shapes, so they share one (frozen) answer each. The shapes
 * sit in a tree (table+family+kernel, then target, then each match name) walked without building
 * a key string per rule. Match names are taken as `names.join(",").split(",")`, so that rules
 * whose joined names are equal share a shape, as they did when the key was that joined string.
 */
interface ShapeNode {
  next: Map<string, ShapeNode> | undefined;
  shape: RuleShape | undefined;
}
const shapeRoots = new Map<string, ShapeNode>();
let shapeCount = 0;
const MAX_SHAPES = 10_000;

function child(node: ShapeNode, key: string): ShapeNode {
  let next = node.next;
  if (!next) node.next = next = new Map();
  let n = next.get(key);
  if (!n) next.set(key, (n = { next: undefined, shape: undefined }));
  return n;
}

/** The root of one table+family+kernel (the last one asked is remembered: rules come table by table). */
let lastRoot: { table: string; family: string; kernel: string | undefined; node: ShapeNode } | undefined;
function shapeRoot(table: string, family: "ipv4" | "ipv6", kernel: string | undefined): ShapeNode {
  if (lastRoot && lastRoot.table === table && lastRoot.family === family && lastRoot.kernel === kernel) return lastRoot.node;
  const rootKey = `${table}\u0000${family}\u0000${kernel ?? ""}`;
  let node = shapeRoots.get(rootKey);
  if (!node) shapeRoots.set(rootKey, (node = { next: undefined, shape: undefined }));
  lastRoot = { table, family, kernel, node };
  return node;
}

/** The leaf of a rule's match names (strings, or iptables-save matches) under its target. */
function shapeLeaf(root: ShapeNode, matches: readonly (string | SaveMatch)[], target: string | undefined): ShapeNode {
  let node = child(root, target ?? "");
  if (matches.length === 0) return child(node, "");
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i]!;
    const name = typeof m === "string" ? m : m.name;
    if (name.indexOf(",") < 0) node = child(node, name);
    else for (const piece of name.split(",")) node = child(node, piece);
  }
  return node;
}

function ruleShape(table: string, family: "ipv4" | "ipv6", matches: readonly (string | SaveMatch)[], target: string | undefined, kernel: string | undefined): RuleShape {
  let leaf = shapeLeaf(shapeRoot(table, family, kernel), matches, target);
  if (leaf.shape) return leaf.shape;
  if (shapeCount > MAX_SHAPES) {
    shapeRoots.clear();
    lastRoot = undefined;
    shapeCount = 0;
    leaf = shapeLeaf(shapeRoot(table, family, kernel), matches, target);
  }
  const names = matches.map((m) => (typeof m === "string" ? m : m.name));
  const input = { table, family, matches: names, ...(target ? { target } : {}) };
  leaf.shape = Object.freeze({ matches: Object.freeze([...names]) as string[], needsConntrack: needsConntrack(input), modules: Object.freeze(modulesForRule(input, kernel)) as string[] });
  shapeCount++;
  return leaf.shape;
}

/** What the rules of one table of one save file share. */
export interface SaveViewContext {
  readonly origin: RuleOrigin;
  readonly live: boolean;
  readonly family: "ipv4" | "ipv6";
  readonly table: string;
  readonly path: string;
  readonly netns: string | undefined;
  readonly facts: Facts;
}

/** `-A CHAIN` as iptables-save prints it, rebuilt from the parsed rule (the line text is not kept). */
export function synthSaveSpec(r: SaveRule): string {
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

/** Strips a leading `[p:b] ` counter block of `iptables-save -c`. */
export function stripCounters(line: string): string {
  return line.replace(/^\[\d+:\d+\]\s+/, "").trim();
}

/** The rule as iptables-save prints it (`-A CHAIN …`), counters removed, from its line when kept. */
export function saveSpec(facts: Facts, path: string, r: SaveRule): string {
  const lineText = facts.lineText(path, r.provenance.line);
  return lineText !== undefined && /-A\s/.test(lineText) ? stripCounters(lineText) : synthSaveSpec(r);
}

/** `spec` without its `-A CHAIN`. */
export function specBody(spec: string): string {
  return spec.replace(/^-A \S+\s*/, "");
}

/** Removes `-s ADDR` / `-d ADDR` (with a possible `!`) from a save rule text. */
export function withoutAddress(spec: string, flag: "-s" | "-d"): string {
  const re = flag === "-s" ? /(^|\s)(?:! )?-s (\S+)(?=\s|$)/ : /(^|\s)(?:! )?-d (\S+)(?=\s|$)/;
  return spec.replace(re, `$1${flag} <ADDR>`).replace(/\s+/g, " ").trim();
}

/** `detail` of each (frozen, shared) match list of the parser, made once. */
const details = new WeakMap<readonly SaveMatch[], string>();

/**
 * One rule of an iptables-save file, as both the unified view (`UnifiedRule`) and the statistics
 * view (`RawRule` of ruleset-stats): four references per rule; every other field is read from the
 * parsed rule, its shared shape or its table's context when asked, texts are built only then.
 */
export class SaveRuleView implements UnifiedRule {
  constructor(
    readonly ctx: SaveViewContext,
    readonly rule: SaveRule,
    readonly shape: RuleShape,
    /** 1-based position inside its chain (what `iptables -R/-D CHAIN N` takes). */
    readonly position: number,
  ) {}
  get origin(): RuleOrigin {
    return this.ctx.origin;
  }
  get live(): boolean {
    return this.ctx.live;
  }
  get family(): "ipv4" | "ipv6" {
    return this.ctx.family;
  }
  get table(): string {
    return this.ctx.table;
  }
  get chain(): string {
    return this.rule.chain;
  }
  get matches(): string[] {
    return this.shape.matches;
  }
  get detail(): string {
    const ms = this.rule.matches;
    if (ms.length === 0) return "";
    let out = details.get(ms);
    if (out === undefined) {
      out = "";
      for (let i = 0; i < ms.length; i++) {
        const m = ms[i]!;
        const part = `-m ${m.name} ${m.options}`.trim();
        out = i === 0 ? part : `${out} ${part}`;
      }
      // The parser's match lists are frozen and shared by the rules that have the same matches.
      if (Object.isFrozen(ms)) details.set(ms, out);
    }
    return out;
  }
  get target(): string | undefined {
    return this.rule.target || undefined;
  }
  get targetOptions(): string | undefined {
    return this.rule.targetOptions || undefined;
  }
  get needsConntrack(): boolean {
    return this.shape.needsConntrack;
  }
  get modules(): string[] {
    return this.shape.modules;
  }
  get counters(): { packets: number; bytes: number } | undefined {
    return this.rule.counters;
  }
  get comment(): string | undefined {
    return this.rule.comment || undefined;
  }
  get path(): string {
    return this.ctx.path;
  }
  get line(): number {
    return this.rule.provenance.line;
  }
  get netns(): string | undefined {
    return this.ctx.netns || undefined;
  }
  // The statistics view (RawRule).
  get kind(): "save" {
    return "save";
  }
  get handle(): undefined {
    return undefined;
  }
  get source(): string | undefined {
    return this.rule.source;
  }
  get destination(): string | undefined {
    return this.rule.destination;
  }
  get spec(): string {
    return saveSpec(this.ctx.facts, this.ctx.path, this.rule);
  }
  get identity(): string {
    return specBody(this.spec);
  }
  get shapeBySource(): string {
    const s = this.rule.source;
    return s !== undefined && !s.startsWith("!") ? withoutAddress(this.identity, "-s") : "";
  }
  get shapeByDestination(): string {
    const d = this.rule.destination;
    return d !== undefined && !d.startsWith("!") ? withoutAddress(this.identity, "-d") : "";
  }
}

/** The views of each save file's rules, by parsed source (ruleset-stats reuses them). */
const saveViewsBySource = new WeakMap<object, SaveRuleView[]>();

/** The rules of one parsed save source as `SaveRuleView`s, made once per source by `ruleSets`. */
export function saveRuleViews(facts: Facts, source: object): SaveRuleView[] | undefined {
  ruleSets(facts);
  return saveViewsBySource.get(source);
}

/** Views of the rules of one table, numbered by position inside their chain. */
function pushTableViews(out: SaveRuleView[], ctx: SaveViewContext, rules: readonly SaveRule[], kernel: string | undefined): void {
  const positions = new Map<string, number>();
  let chain: string | undefined;
  let n = 0;
  for (const r of rules) {
    if (r.chain !== chain) {
      if (chain !== undefined) positions.set(chain, n);
      chain = r.chain;
      n = positions.get(chain) ?? 0;
    }
    out.push(new SaveRuleView(ctx, r, ruleShape(ctx.table, ctx.family, r.matches, r.target, kernel), ++n));
  }
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
      const rules: SaveRuleView[] = [];
      for (const t of p.value.tables) pushTableViews(rules, { origin: id, live, family, table: t.name, path: p.path, netns: p.netns, facts }, t.rules, kernel);
      saveViewsBySource.set(p, rules);
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
const liveCache = new WeakMap<Facts, UnifiedRule[]>();

/** (Computed once per bundle; callers read the array, they do not change it.) */
export function liveRules(facts: Facts): UnifiedRule[] {
  let rules = liveCache.get(facts);
  if (!rules) liveCache.set(facts, (rules = computeLiveRules(facts)));
  return rules;
}

function computeLiveRules(facts: Facts): UnifiedRule[] {
  const sets = ruleSets(facts).filter((s) => s.live);
  const has = (o: RuleOrigin): boolean => sets.some((s) => s.origin === o);
  const hasSave = sets.some((s) => s.origin.includes("tables") && s.origin.endsWith("-save")) || has("netns-rules");
  const hasIptablesNft = sets.some((s) => s.origin.endsWith("-save") && s.backend === "nf_tables");
  const managed = new Set<string>();
  for (const id of NFT_SOURCES)
    for (const p of facts.sources(id)) for (const t of p.value.tables) if (t.managedByIptablesNft) managed.add(`${p.path}\u0000${t.family}\u0000${t.name}`);
  const out: UnifiedRule[] = [];
  for (const s of sets) {
    if ((s.origin === "iptables-list" && hasSave) || (s.origin === "nft-ruleset-json" && has("nft-ruleset"))) continue;
    const skipManaged = s.origin === "nft-ruleset" && hasIptablesNft;
    for (const r of s.rules) if (!skipManaged || !managed.has(`${r.path}\u0000${r.family}\u0000${r.table}`)) out.push(r);
  }
  return out;
}

/** Whether any live rule source exists at all (absent ≠ "no rules"). */
export function hasLiveRuleSource(facts: Facts): boolean {
  return ruleSets(facts).some((s) => s.live);
}
