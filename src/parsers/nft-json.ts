/**
 * Reads `nft -j list ruleset` (JSON, libnftables schema 1). Real sample (nftables 1.0.6, lab namespace):
 *
 *   {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
 *    {"table": {"family": "ip", "name": "raw", "handle": 1}},
 *    {"chain": {"family": "ip", "table": "raw", "name": "PREROUTING", "handle": 1, "type": "filter", "hook": "prerouting", "prio": -300, "policy": "accept"}},
 *    {"rule": {"family": "ip", "table": "raw", "chain": "PREROUTING", "handle": 2, "expr": [{"match": {"op": "==",
 *      "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}}, {"counter": {"packets": 5, "bytes": 150}},
 *      {"xt": {"type": "target", "name": "CT"}}]}}, …]}
 *
 * Produces the same summary shape as nft-ruleset.ts. The document is validated with zod; unknown
 * fields pass through. The lines are joined and parsed at end() (one document per file).
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import {
  META_SHORTHAND,
  NFT_KEYWORDS,
  nftRulesetSchema,
  summarise,
  type NftChain,
  type NftObject,
  type NftRule,
  type NftRuleset,
  type NftSet,
  type NftTable,
} from "./rules/nft-model.js";
import { WarningSink, isBinaryGarbage } from "./rules/text.js";

export const schema = nftRulesetSchema;
export type { NftRuleset };

/** Longest JSON document kept in memory (a 200,000-rule ruleset is ~100 MB of JSON). */
export const MAX_JSON_CHARS = 512 * 1024 * 1024;

const tableIn = z.looseObject({ family: z.string(), name: z.string(), handle: z.number().optional(), flags: z.union([z.string(), z.array(z.string())]).optional() });
const chainIn = z.looseObject({
  family: z.string(),
  table: z.string(),
  name: z.string(),
  handle: z.number().optional(),
  type: z.string().optional(),
  hook: z.string().optional(),
  prio: z.union([z.number(), z.string()]).optional(),
  policy: z.string().optional(),
  dev: z.union([z.string(), z.array(z.string())]).optional(),
});
const setIn = z.looseObject({
  family: z.string(),
  table: z.string(),
  name: z.string(),
  handle: z.number().optional(),
  type: z.unknown().optional(),
  map: z.unknown().optional(),
  flags: z.union([z.string(), z.array(z.string())]).optional(),
  size: z.number().optional(),
  timeout: z.number().optional(),
  elem: z.array(z.unknown()).optional(),
});
const ruleIn = z.looseObject({
  family: z.string(),
  table: z.string(),
  chain: z.string(),
  handle: z.number().optional(),
  expr: z.array(z.unknown()).default([]),
});
const objIn = z.looseObject({ family: z.string(), table: z.string(), name: z.string(), type: z.unknown().optional(), protocol: z.string().optional() });
export const documentSchema = z.looseObject({ nftables: z.array(z.record(z.string(), z.unknown())) });

const VERDICTS: ReadonlySet<string> = new Set(["accept", "drop", "return", "continue", "reject", "queue", "jump", "goto"]);
const NAT: ReadonlySet<string> = new Set(["snat", "dnat", "masquerade", "redirect"]);

function typeText(t: unknown): string | undefined {
  if (typeof t === "string") return t;
  if (Array.isArray(t) && t.every((x) => typeof x === "string")) return t.join(" . ");
  return undefined;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Walks a rule's expression tree and collects the same facts as the text classifier. */
export function classifyExpressions(expr: unknown[]): Omit<NftRule, "family" | "table" | "chain" | "provenance" | "handle" | "text"> {
  const keywords: string[] = [];
  const ct: string[] = [];
  const nat: string[] = [];
  const compat: NftRule["compat"] = [];
  const setRefs: string[] = [];
  let verdict: string | undefined;
  let jumpTarget: string | undefined;
  let counter: NftRule["counter"];
  const kw = (k: string) => {
    if (!keywords.includes(k)) keywords.push(k);
  };
  const walk = (node: unknown, depth: number, top: boolean): void => {
    if (depth > 64 || node === null || typeof node !== "object") {
      if (typeof node === "string" && node.startsWith("@") && !setRefs.includes(node.slice(1))) setRefs.push(node.slice(1));
      return;
    }
    if (Array.isArray(node)) {
      for (const n of node) walk(n, depth + 1, false);
      return;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === "ct" && value && typeof value === "object" && "key" in value) {
        kw("ct");
        const k = String((value as { key: unknown }).key);
        if (!ct.includes(k)) ct.push(k);
        if (k === "count") kw("connlimit");
      } else if (key === "ct count") {
        kw("ct");
        kw("connlimit");
        if (!ct.includes("count")) ct.push("count");
      } else if (key.startsWith("ct ")) {
        // "ct helper": "ftp-std" (set statement), "ct timeout", "ct expectation"
        kw("ct");
        const k = key.slice(3);
        if (!ct.includes(k)) ct.push(k);
      } else if (key === "payload" && value && typeof value === "object" && "protocol" in value) {
        kw(String((value as { protocol: unknown }).protocol));
      } else if (key === "meta") {
        kw("meta");
      } else if (key === "xt" && value && typeof value === "object") {
        kw("xt");
        const v = value as { type?: unknown; name?: unknown };
        const kind = v.type === "match" || v.type === "target" ? v.type : undefined;
        compat.push({ ...(kind ? { kind } : {}), name: String(v.name ?? "") });
      } else if (top && key === "counter") {
        kw("counter");
        if (value && typeof value === "object" && "packets" in value) {
          const v = value as { packets: unknown; bytes?: unknown };
          counter = { packets: Number(v.packets), bytes: Number(v.bytes ?? 0) };
        }
      } else if (top && NAT.has(key)) {
        kw(key);
        if (!nat.includes(key)) nat.push(key);
      } else if (top && VERDICTS.has(key)) {
        kw(key);
        verdict = key;
        if ((key === "jump" || key === "goto") && value && typeof value === "object" && "target" in value) {
          jumpTarget = String((value as { target: unknown }).target);
        }
      } else if (NFT_KEYWORDS.has(key)) kw(key);
      else if (META_SHORTHAND.has(key)) kw("meta");
      walk(value, depth + 1, false);
    }
  };
  for (const e of expr) walk(e, 0, true);
  const out: ReturnType<typeof classifyExpressions> = { keywords, ct, nat, compat, setRefs };
  if (verdict) out.verdict = verdict;
  if (jumpTarget) out.jumpTarget = jumpTarget;
  if (counter) out.counter = counter;
  return out;
}

export const create: ParserFactory<NftRuleset> = (ctx) => {
  const path = ctx.path;
  const warnings = new WarningSink(path);
  const parts: string[] = [];
  let size = 0;
  let firstLine = 0;
  let lastLine = 0;
  let overflow = false;

  return {
    push(line, lineNo) {
      lastLine = lineNo;
      if (overflow) return;
      if (isBinaryGarbage(line)) {
        warnings.add("binary data skipped", lineNo);
        return;
      }
      if (firstLine === 0) {
        if (line.trim().length === 0) return;
        // nft prints "# Warning: …" or "Error: …" on stderr; sos may merge them before the JSON.
        if (!line.trimStart().startsWith("{")) {
          warnings.add("text before the JSON document skipped", lineNo);
          return;
        }
        firstLine = lineNo;
      }
      size += line.length + 1;
      if (size > MAX_JSON_CHARS) {
        overflow = true;
        warnings.add(`JSON larger than ${MAX_JSON_CHARS} characters: not parsed`, lineNo);
        return;
      }
      parts.push(line);
    },
    end() {
      const tables: NftTable[] = [];
      const empty = (): NftRuleset => ({ tables, notices: [], summary: summarise(tables) });
      if (overflow || parts.length === 0) return { value: empty(), warnings: warnings.finish() };
      let doc: unknown;
      try {
        doc = JSON.parse(parts.join("\n"));
      } catch (e) {
        warnings.add(`invalid JSON (${(e as Error).message.slice(0, 200)}); cut short?`, lastLine);
        return { value: empty(), warnings: warnings.finish() };
      }
      const parsed = documentSchema.safeParse(doc);
      if (!parsed.success) {
        warnings.add("JSON is not an nft ruleset (no \"nftables\" array)", firstLine);
        return { value: empty(), warnings: warnings.finish() };
      }
      const provenance = lastLine > firstLine ? { path, line: firstLine, lastLine } : { path, line: firstLine };
      const byKey = new Map<string, NftTable>();
      const keyOf = (family: string, name: string) => `${family}\u0000${name}`;
      const tableFor = (family: string, name: string): NftTable => {
        let t = byKey.get(keyOf(family, name));
        if (!t) {
          warnings.add(`object refers to table ${family} ${name} that was not listed`, firstLine);
          t = { family, name, flags: [], managedByIptablesNft: false, chains: [], sets: [], objects: [], rules: [], provenance };
          byKey.set(keyOf(family, name), t);
          tables.push(t);
        }
        return t;
      };
      const chainIndex = new Map<string, NftChain>();
      let version: string | undefined;
      let bad = 0;
      for (const item of parsed.data.nftables) {
        const [kind, body] = Object.entries(item)[0] ?? [];
        if (kind === undefined) continue;
        if (kind === "metainfo") {
          const v = (body as { version?: unknown } | undefined)?.version;
          if (typeof v === "string") version = v;
          continue;
        }
        if (kind === "table") {
          const r = tableIn.safeParse(body);
          if (!r.success) {
            bad++;
            continue;
          }
          const t: NftTable = {
            family: r.data.family,
            name: r.data.name,
            flags: list(r.data.flags),
            managedByIptablesNft: false,
            chains: [],
            sets: [],
            objects: [],
            rules: [],
            provenance,
          };
          if (r.data.handle !== undefined) t.handle = r.data.handle;
          byKey.set(keyOf(t.family, t.name), t);
          tables.push(t);
          continue;
        }
        if (kind === "chain") {
          const r = chainIn.safeParse(body);
          if (!r.success) {
            bad++;
            continue;
          }
          const c = r.data;
          const chain: NftChain = { name: c.name, base: c.hook !== undefined, ruleCount: 0, provenance };
          if (c.handle !== undefined) chain.handle = c.handle;
          if (c.type !== undefined) chain.type = c.type;
          if (c.hook !== undefined) chain.hook = c.hook;
          if (c.prio !== undefined) chain.priority = String(c.prio);
          if (c.policy !== undefined) chain.policy = c.policy;
          if (c.dev !== undefined) chain.device = list(c.dev).join(",");
          tableFor(c.family, c.table).chains.push(chain);
          chainIndex.set(`${keyOf(c.family, c.table)}\u0000${c.name}`, chain);
          continue;
        }
        if (kind === "set" || kind === "map") {
          const r = setIn.safeParse(body);
          if (!r.success) {
            bad++;
            continue;
          }
          const s = r.data;
          const set: NftSet = { name: s.name, kind, flags: list(s.flags), elements: s.elem?.length ?? 0, provenance };
          if (s.handle !== undefined) set.handle = s.handle;
          const tt = typeText(s.type);
          const mt = typeText(s.map);
          if (tt) set.type = mt ? `${tt} : ${mt}` : tt;
          if (s.size !== undefined) set.size = s.size;
          if (s.timeout !== undefined) set.timeout = `${s.timeout}s`;
          tableFor(s.family, s.table).sets.push(set);
          continue;
        }
        if (kind === "rule") {
          const r = ruleIn.safeParse(body);
          if (!r.success) {
            bad++;
            continue;
          }
          const x = r.data;
          const rule: NftRule = { family: x.family, table: x.table, chain: x.chain, ...classifyExpressions(x.expr), provenance };
          if (x.handle !== undefined) rule.handle = x.handle;
          tableFor(x.family, x.table).rules.push(rule);
          const ch = chainIndex.get(`${keyOf(x.family, x.table)}\u0000${x.chain}`);
          if (ch) ch.ruleCount++;
          else warnings.add(`rule in chain ${x.chain} that was not listed`, firstLine);
          continue;
        }
        if (["ct helper", "counter", "quota", "limit", "ct timeout", "ct expectation", "flowtable", "secmark", "synproxy"].includes(kind)) {
          const r = objIn.safeParse(body);
          if (!r.success) {
            bad++;
            continue;
          }
          const o: NftObject = { kind, name: r.data.name, provenance };
          if (kind === "ct helper" && typeof r.data.type === "string") o.helperType = r.data.type;
          if (r.data.protocol) o.protocol = r.data.protocol;
          tableFor(r.data.family, r.data.table).objects.push(o);
          continue;
        }
        // element, unknown future kinds: ignored (pass-through)
      }
      if (bad > 0) warnings.add(`${bad} JSON objects did not have the expected fields and were skipped`, firstLine);
      const value: NftRuleset = { tables, notices: [], summary: summarise(tables) };
      if (version) value.version = version;
      return { value, warnings: warnings.finish() };
    },
  };
};
