/**
 * Rule-set statistics for the rule-set, ipset and logging analyzers: per-view rule and chain
 * counts, rules that differ only by one address (ipset/nft-set consolidation candidates),
 * duplicates, unreferenced user chains, chains reached from hot hooks, and the command name that
 * edits a given view (iptables / iptables-legacy / iptables-nft / ip6tables…).
 *
 * iptables-save rules are the `SaveRuleView`s of `rulesets.ts` (one small object per rule, read
 * through getters: -s/-d, position in the chain, the rule's text); listings and nft rule sets are
 * read again here into plain raw rules. Duplicates and consolidation groups come from one pass
 * over the rules that keys each rule by its text without building strings where it can (see
 * `groupRules`): 200,000 rules take a fifth of a second.
 */
import type { Facts } from "../../facts/facts.js";
import type { IptablesList } from "../../parsers/iptables-list.js";
import type { IptablesSave, SaveChain, SaveRule } from "../../parsers/iptables-save.js";
import type { NftRuleset } from "../../parsers/rules/nft-model.js";
import type { Evidence } from "../../report/schema.js";
import {
  type RuleOrigin,
  SaveRuleView,
  type SaveViewContext,
  ruleSets,
  saveRuleViews,
  specBody,
  stripCounters,
  synthSaveSpec,
  withoutAddress,
} from "./rulesets.js";

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

/**
 * The save rules of one source as raw rules: the unified views of `rulesets.ts` themselves when they
 * agree (same family, same match names: always but for odd files), else views of their own.
 */
function saveRaw(facts: Facts, origin: RuleOrigin, source: object, path: string, value: IptablesSave): RawRule[] {
  const header = value.headers[0];
  const fam: "ipv4" | "ipv6" = header?.family === "ipv6" || origin.startsWith("ip6") || /rules\.v6$|ip6tables$/.test(path) ? "ipv6" : "ipv4";
  const views = saveRuleViews(facts, source) ?? [];
  let out: SaveRuleView[] | undefined;
  const contexts = new Map<SaveViewContext, SaveViewContext>();
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    const sameNames = sameMatchNames(v.shape.matches, v.rule);
    if (v.ctx.family === fam && sameNames) {
      out?.push(v);
      continue;
    }
    out ??= views.slice(0, i);
    let ctx = contexts.get(v.ctx);
    if (!ctx) contexts.set(v.ctx, (ctx = { ...v.ctx, family: fam }));
    const shape = sameNames ? v.shape : { ...v.shape, matches: v.rule.matches.map((m) => m.name) };
    out.push(new SaveRuleView(ctx, v.rule, shape, v.position));
  }
  return out ?? views;
}

function sameMatchNames(names: readonly string[], r: SaveRule): boolean {
  const ms = r.matches;
  if (names.length !== ms.length) return false;
  for (let i = 0; i < ms.length; i++) if (names[i] !== ms[i]!.name) return false;
  return true;
}

/**
 * What duplicate and consolidation grouping read of a rule (filled in place: no object per rule).
 * A shape that starts with `-s <ADDR>` (`-d <ADDR>`) may be given as the text after that prefix
 * only (`…Rest`, a slice of the rule's line: no string built per rule); the other shapes in full.
 */
interface RuleKeys {
  /** Not read (and may be left empty) when sourceAddress is given. */
  identity: string;
  shapeBySource: string;
  sourceRest: string | undefined;
  /**
   * With sourceRest: the address text, when the identity is exactly `-s ADDRESS` + sourceRest
   * (duplicates are then found among the rules of the same rest, by address: no identity key).
   */
  sourceAddress: string | undefined;
  shapeByDestination: string;
  destinationRest: string | undefined;
}

type KeysOf = (r: RawRule, out: RuleKeys) => void;

const plainKeys: KeysOf = (r, out) => {
  out.identity = r.identity;
  out.shapeBySource = r.shapeBySource;
  out.sourceRest = out.sourceAddress = undefined;
  out.shapeByDestination = r.shapeByDestination;
  out.destinationRest = undefined;
};

/**
 * The keys of a save rule, as `SaveRuleView`'s getters compute them (spec from the line, body,
 * address removed), with the regular expressions replaced by plain scans when the text has no
 * whitespace but single spaces (what iptables-save prints); any other text takes the getters' way.
 */
function saveKeys(facts: Facts, path: string): KeysOf {
  return (raw, out) => {
    const r = (raw as SaveRuleView).rule;
    const lineText = facts.lineText(path, r.provenance.line);
    const at = lineText !== undefined ? plainBodyStart(lineText) : -1;
    if (at >= 0) {
      plainLineKeys(lineText!, at, r, out);
      return;
    }
    const body = specBody(lineText !== undefined && /-A\s/.test(lineText) ? stripCounters(lineText) : synthSaveSpec(r));
    const plain = isPlainText(body);
    out.identity = body;
    const src = r.source;
    const dst = r.destination;
    out.shapeBySource = out.shapeByDestination = "";
    out.sourceRest = out.sourceAddress = out.destinationRest = undefined;
    if (src !== undefined && !src.startsWith("!")) {
      if (!plain) out.shapeBySource = withoutAddress(body, "-s");
      else if ((out.sourceRest = plainRestAfterAddress(body, "-s")) === undefined) out.shapeBySource = plainWithoutAddress(body, "-s");
      else {
        const end = body.length - out.sourceRest.length;
        out.sourceAddress = end - 3 === src.length && body.startsWith(src, 3) ? src : body.slice(3, end);
      }
    }
    if (dst !== undefined && !dst.startsWith("!")) {
      if (!plain) out.shapeByDestination = withoutAddress(body, "-d");
      else if ((out.destinationRest = plainRestAfterAddress(body, "-d")) === undefined) out.shapeByDestination = plainWithoutAddress(body, "-d");
    }
  };
}

/**
 * The keys of a rule from its plain line whose body starts at `at`: the texts after an address are
 * sliced from the line itself, and the body only when a key needs it (a rule keyed by its source
 * address needs no identity: it is left empty).
 */
function plainLineKeys(line: string, at: number, r: SaveRule, out: RuleKeys): void {
  let body: string | undefined;
  const src = r.source;
  const dst = r.destination;
  out.shapeBySource = out.shapeByDestination = "";
  out.sourceRest = out.sourceAddress = out.destinationRest = undefined;
  if (src !== undefined && !src.startsWith("!")) {
    const restAt = plainRestAfterAddressAt(line, at, "-s");
    if (restAt < 0) out.shapeBySource = plainWithoutAddress((body ??= line.slice(at)), "-s");
    else {
      out.sourceRest = line.slice(restAt);
      const addrAt = at + 3;
      out.sourceAddress = restAt - addrAt === src.length && line.startsWith(src, addrAt) ? src : line.slice(addrAt, restAt);
    }
  }
  if (dst !== undefined && !dst.startsWith("!")) {
    const restAt = plainRestAfterAddressAt(line, at, "-d");
    if (restAt < 0) out.shapeByDestination = plainWithoutAddress((body ??= line.slice(at)), "-d");
    else out.destinationRest = line.slice(restAt);
  }
  out.identity = out.sourceAddress !== undefined ? "" : (body ?? line.slice(at));
}

/**
 * For a plain body that starts with `-s ADDR` (`-d ADDR`), where `withoutAddress` puts `-s <ADDR>`:
 * the text after the address. Undefined otherwise.
 */
function plainRestAfterAddress(body: string, flag: "-s" | "-d"): string | undefined {
  const restAt = plainRestAfterAddressAt(body, 0, flag);
  return restAt < 0 ? undefined : body.slice(restAt);
}

/** `plainRestAfterAddress` of the body that starts at `at` in `text`, as an offset in `text` (−1: none). */
function plainRestAfterAddressAt(text: string, at: number, flag: "-s" | "-d"): number {
  if (!text.startsWith(flag, at) || text.charCodeAt(at + 2) !== 0x20 || text.length - at < 4 || text.charCodeAt(at + 3) === 0x20) return -1;
  const end = text.indexOf(" ", at + 3);
  return end < 0 ? text.length : end;
}

/** `\s` of a regular expression. */
function isSpace(c: number): boolean {
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Whitespace other than a space, two spaces, a space at either end: what `isPlainText` rules out. */
const NOT_PLAIN = /[^\S ]|  |^ | $/;

/** True when the only whitespace of `s` is single spaces between words (none at either end). */
export function isPlainText(s: string): boolean {
  return !NOT_PLAIN.test(s);
}

/**
 * The body (`specBody(stripCounters(line))`) of a plain `-A CHAIN …` or `[p:b] -A CHAIN …` line;
 * undefined for any other line.
 */
export function plainBody(line: string): string | undefined {
  const at = plainBodyStart(line);
  return at < 0 ? undefined : line.slice(at);
}

/** Where the body of a plain rule line starts (see `plainBody`): −1 for any other line. */
export function plainBodyStart(line: string): number {
  let i = 0;
  if (line.charCodeAt(0) === 0x5b) {
    // [digits:digits] and one space
    let j = 1;
    while (j < line.length && line.charCodeAt(j) >= 0x30 && line.charCodeAt(j) <= 0x39) j++;
    if (j === 1 || line.charCodeAt(j) !== 0x3a) return -1;
    const k = ++j;
    while (j < line.length && line.charCodeAt(j) >= 0x30 && line.charCodeAt(j) <= 0x39) j++;
    if (j === k || line.charCodeAt(j) !== 0x5d || line.charCodeAt(j + 1) !== 0x20) return -1;
    i = j + 2;
  }
  if (!line.startsWith("-A ", i) || NOT_PLAIN.test(line)) return -1;
  const sp = line.indexOf(" ", i + 3);
  return sp < 0 ? line.length : sp + 1;
}

/** `withoutAddress(body, flag)` of a plain text (see `isPlainText`), without regular expressions. */
export function plainWithoutAddress(body: string, flag: "-s" | "-d"): string {
  const n = body.length;
  const needle = `${flag} `;
  for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + 1)) {
    const addr = at + 3;
    if (addr >= n || body.charCodeAt(addr) === 0x20) continue;
    // Where the match starts: a space (or the start) before `! -s` or before `-s`.
    let from: number;
    if (at >= 2 && body.charCodeAt(at - 1) === 0x20 && body.charCodeAt(at - 2) === 0x21 && (at === 2 || body.charCodeAt(at - 3) === 0x20)) from = at === 2 ? -1 : at - 3;
    else if (at === 0) from = -1;
    else if (body.charCodeAt(at - 1) === 0x20) from = at - 1;
    else continue;
    let end = body.indexOf(" ", addr);
    if (end < 0) end = n;
    return from < 0 ? `${flag} <ADDR>${body.slice(end)}` : `${body.slice(0, from)} ${flag} <ADDR>${body.slice(end)}`;
  }
  return body;
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

/** Keys of one chain: key → index of its one rule (≥ 0), or −1 − index of its list. */
interface ChainKeys {
  identity: Map<string, number>;
  /** Shapes by source given in full, and those after `-s <ADDR>` (see RuleKeys); the same by destination. */
  bySource: Map<string, number> | undefined;
  bySourceRest: Map<string, number> | undefined;
  byDestination: Map<string, number> | undefined;
  byDestinationRest: Map<string, number> | undefined;
}

interface Bucket {
  /** Index of the first rule: duplicate lists keep this order (the first time a key was seen). */
  first: number;
  /** first × 2 (+ 1 for destination): the order consolidation groups were first seen in. */
  order: number;
  field: "source" | "destination";
  /** The key; the shape is `prefix + key`. */
  key: string;
  prefix: string;
  rules: number[];
}

/** Adds rule `i` under `key`: a list is made at the second rule with that key. */
function addKey(map: Map<string, number>, key: string, i: number, lists: Bucket[], field: Bucket["field"], prefix: string): void {
  const at = map.get(key);
  if (at === undefined) map.set(key, i);
  else if (at >= 0) {
    map.set(key, -1 - lists.length);
    lists.push({ first: at, order: at * 2 + (field === "destination" ? 1 : 0), field, key, prefix, rules: [at, i] });
  } else lists[-1 - at]!.rules.push(i);
}

const SOURCE_PREFIX = "-s <ADDR>";
const DESTINATION_PREFIX = "-d <ADDR>";

/** Files a shape by `field` under one key whatever way it was given (see RuleKeys). */
function addShape(ck: ChainKeys, field: Bucket["field"], full: string, rest: string | undefined, i: number, buckets: Bucket[]): void {
  const prefix = field === "source" ? SOURCE_PREFIX : DESTINATION_PREFIX;
  if (rest === undefined) {
    if (!full) return;
    if (full.startsWith(prefix)) rest = full.slice(prefix.length);
  }
  if (rest !== undefined) {
    const map = field === "source" ? (ck.bySourceRest ??= new Map()) : (ck.byDestinationRest ??= new Map());
    addKey(map, rest, i, buckets, field, prefix);
  } else {
    const map = field === "source" ? (ck.bySource ??= new Map()) : (ck.byDestination ??= new Map());
    addKey(map, full, i, buckets, field, "");
  }
}

const SMALL_BUCKET = 16;
const smallDone = new Uint8Array(SMALL_BUCKET);

/** Rules of one source-rest bucket with the same address (and so the same identity), as duplicate lists. */
function duplicatesByAddress(rules: number[], addresses: (string | undefined)[], dups: Bucket[]): void {
  if (rules.length <= SMALL_BUCKET) {
    const done = smallDone.fill(0);
    for (let a = 0; a < rules.length; a++) {
      const addr = addresses[rules[a]!];
      if (addr === undefined || done[a]) continue;
      let list: Bucket | undefined;
      for (let b = a + 1; b < rules.length; b++)
        if (addresses[rules[b]!] === addr) {
          done[b] = 1;
          if (!list) dups.push((list = { first: rules[a]!, order: 0, field: "source", key: "", prefix: "", rules: [rules[a]!] }));
          list.rules.push(rules[b]!);
        }
    }
    return;
  }
  const byAddress = new Map<string, number>();
  for (const x of rules) {
    const addr = addresses[x];
    if (addr !== undefined) addKey(byAddress, addr, x, dups, "source", "");
  }
}

/**
 * Exact duplicates (same table, chain and identity) and groups of same-shape rules that differ only
 * by one address (consolidation candidates), in one pass over the rules.
 */
function groupRules(origin: RuleOrigin, path: string, kind: RawRule["kind"], raw: RawRule[], keysOf: KeysOf): { duplicates: DuplicateGroup[]; groups: ConsolidationGroup[] } {
  const chains = new Map<string, ChainKeys>();
  const dups: Bucket[] = [];
  const buckets: Bucket[] = [];
  const keys: RuleKeys = { identity: "", shapeBySource: "", sourceRest: undefined, sourceAddress: undefined, shapeByDestination: "", destinationRest: undefined };
  /** Rule index → its source address, for rules whose identity is `-s ADDRESS` + their source rest. */
  let addresses: (string | undefined)[] | undefined;
  let table: string | undefined;
  let chain: string | undefined;
  let ck: ChainKeys | undefined;
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    if (r.chain !== chain || r.table !== table || !ck) {
      table = r.table;
      chain = r.chain;
      const k = `${table}\u0000${chain}`;
      ck = chains.get(k);
      if (!ck) chains.set(k, (ck = { identity: new Map(), bySource: undefined, bySourceRest: undefined, byDestination: undefined, byDestinationRest: undefined }));
    }
    keysOf(r, keys);
    if (keys.sourceAddress !== undefined) (addresses ??= new Array<string | undefined>(raw.length))[i] = keys.sourceAddress;
    else addKey(ck.identity, keys.identity, i, dups, "source", "");
    addShape(ck, "source", keys.shapeBySource, keys.sourceRest, i, buckets);
    addShape(ck, "destination", keys.shapeByDestination, keys.destinationRest, i, buckets);
  }
  if (addresses) for (const b of buckets) if (b.prefix === SOURCE_PREFIX) duplicatesByAddress(b.rules, addresses, dups);
  dups.sort((a, b) => a.first - b.first);
  const duplicates = dups.map((d) => {
    const rules = d.rules.map((x) => raw[x]!);
    return { table: rules[0]!.table, chain: rules[0]!.chain, rules };
  });
  // Groups with enough different addresses, larger first (ties: first seen first).
  const candidates = buckets.filter((b) => {
    if (b.rules.length < MIN_CONSOLIDATION_GROUP) return false;
    const addrs = new Set<string | undefined>();
    for (const x of b.rules) addrs.add(b.field === "source" ? raw[x]!.source : raw[x]!.destination);
    return addrs.size >= MIN_CONSOLIDATION_GROUP;
  });
  candidates.sort((a, b) => b.rules.length - a.rules.length || a.order - b.order);
  // A rule set with many -s rules that all share one -d would give two groups of the same rules: keep the larger one.
  const used = new Uint8Array(raw.length);
  const groups: ConsolidationGroup[] = [];
  for (const b of candidates) {
    const fresh = b.rules.filter((x) => used[x] === 0);
    if (fresh.length < MIN_CONSOLIDATION_GROUP) continue;
    for (const x of fresh) used[x] = 1;
    const r = raw[b.first]!;
    groups.push({ origin, path, family: r.family, table: r.table, chain: r.chain, field: b.field, ...(r.target ? { target: r.target } : {}), shape: b.prefix + b.key, rules: fresh.map((x) => raw[x]!), kind });
  }
  return { duplicates, groups };
}

function familyOf(raw: RawRule[]): RuleSetStats["family"] {
  let v4 = false;
  let v6 = false;
  for (const r of raw) {
    if (r.family === "ipv6") v6 = true;
    else v4 = true;
    if (v4 && v6) return "mixed";
  }
  return v6 ? "ipv6" : "ipv4";
}

const statsCache = new WeakMap<Facts, RuleSetStats[]>();

/** Statistics of every rule view in the bundle (live and saved), one entry per file. */
export function ruleSetStats(facts: Facts): RuleSetStats[] {
  const hit = statsCache.get(facts);
  if (hit) return hit;
  const views = ruleSets(facts);
  const out: RuleSetStats[] = [];
  for (const id of SAVE_ORIGINS)
    for (const p of facts.sources(id)) {
      const live = id !== "saved-rules";
      const raw = saveRaw(facts, id, p, p.path, p.value);
      const view = views.find((v) => v.path === p.path && v.origin === id);
      const unref: RuleSetStats["unreferencedChains"] = [];
      for (const t of p.value.tables) {
        if (t.unreferencedChains.length === 0) continue;
        const byName = new Map<string, SaveChain>();
        for (const c of t.chains) if (!byName.has(c.name)) byName.set(c.name, c);
        for (const c of t.unreferencedChains) unref.push({ table: t.name, chain: c, path: p.path, line: byName.get(c)?.provenance.line ?? t.provenance.line });
      }
      const { duplicates, groups } = groupRules(id, p.path, "save", raw, saveKeys(facts, p.path));
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
        duplicates,
        groups,
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
      ...groupRules("iptables-list", p.path, "list", raw, plainKeys),
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
        ...groupRules(id, p.path, "nft", raw, plainKeys),
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
const primaryCache = new WeakMap<Facts, RuleSetStats[]>();

export function primaryLiveStats(facts: Facts): RuleSetStats[] {
  let hit = primaryCache.get(facts);
  if (!hit) primaryCache.set(facts, (hit = computePrimaryLiveStats(facts)));
  return hit;
}

function computePrimaryLiveStats(facts: Facts): RuleSetStats[] {
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
    out.push({ ...s, raw, rules: raw.length, ...groupRules(s.origin, s.path, "nft", raw, plainKeys) });
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
  // Chains that hold rules, once: a jump to a verdict (ACCEPT, DROP) is not a chain. Jumps from a
  // hot chain make the target hot; a breadth-first walk visits each rule at most once per chain.
  // Rules with a target and hot chains are kept by table, then chain: no key string per rule.
  const rulesByTable = new Map<string, Map<string, RawRule[]>>();
  let table: string | undefined;
  let chain: string | undefined;
  let list: RawRule[] | undefined;
  for (const r of stats.raw) {
    if (r.chain !== chain || r.table !== table || !list) {
      table = r.table;
      chain = r.chain;
      let chains = rulesByTable.get(table);
      if (!chains) rulesByTable.set(table, (chains = new Map()));
      list = chains.get(chain);
      if (!list) chains.set(chain, (list = []));
    }
    if (r.target) list.push(r);
  }
  const hotByTable = new Map<string, Set<string>>();
  const queue: { table: string; chain: string }[] = [];
  const addHot = (t: string, c: string) => {
    hot.add(key(t, c));
    let set = hotByTable.get(t);
    if (!set) hotByTable.set(t, (set = new Set()));
    set.add(c);
    queue.push({ table: t, chain: c });
  };
  for (const t of rulesByTable.keys()) {
    if (hooks) {
      for (const [k, hook] of hooks) if (k.startsWith(`${t}\u0000`) && HOT_NFT_HOOKS.has(hook)) addHot(t, k.slice(t.length + 1));
    } else for (const c of HOT_BUILTIN_CHAINS) addHot(t, c);
  }
  while (queue.length > 0) {
    const at = queue.pop()!;
    const chains = rulesByTable.get(at.table)!;
    const hotHere = hotByTable.get(at.table)!;
    for (const r of chains.get(at.chain) ?? []) {
      const target = r.target!;
      // Most targets are verdicts: the rate-limit test comes last.
      if (!hotHere.has(target) && chains.has(target) && !isRateLimited(r)) addHot(at.table, target);
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
