/**
 * Reads `nft list ruleset` and `nft -a list ruleset` (sos: sos_commands/networking/nft_list_ruleset,
 * sos_commands/firewall_tables/nft_-a_list_ruleset; also /etc/nftables.conf-style files).
 * Real sample (sos 4.0, Debian 12, nftables 1.0.x under iptables-nft 1.8.9):
 *
 *   # Warning: table ip filter is managed by iptables-nft, do not touch!
 *   table ip filter {
 *   	chain INPUT {
 *   		type filter hook input priority filter; policy drop;
 *   		ct state related,established counter packets 256 bytes 14336 accept
 *   		tcp dport 22 ct state new xt match recent counter packets 0 bytes 0
 *   		limit rate 5/minute counter packets 0 bytes 0 log prefix "INPUT-DROP: "
 *   	}
 *   }
 *
 * Sets and maps count their elements across wrapped `elements = { … }` lines; each rule gets its
 * keywords, ct keys, NAT statements, nft_compat extensions (`xt match recent`, older `# xt_recent`)
 * and handle (`# handle 12` with -a).
 */
import type { ParserFactory } from "./types.js";
import {
  META_SHORTHAND,
  NFT_KEYWORDS,
  nftRulesetSchema,
  summarise,
  type NftChain,
  type NftNotice,
  type NftObject,
  type NftRule,
  type NftRuleset,
  type NftSet,
  type NftTable,
} from "./rules/nft-model.js";
import { WarningSink, clip, isBinaryGarbage, parseUint, prov, tokenize, type Token } from "./rules/text.js";

export const schema = nftRulesetSchema;
export type { NftRuleset };

const OBJECT_KINDS = ["counter", "quota", "limit", "flowtable", "secmark", "synproxy"];
const VERDICTS: ReadonlySet<string> = new Set(["accept", "drop", "return", "continue", "reject", "queue"]);

/** Splits `… # handle 12` / `… # xt_recent` off a line; the comment part is outside quotes. */
function splitComment(tokens: Token[]): { body: Token[]; comment: Token[] } {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.quoted && t.text.startsWith("#")) return { body: tokens.slice(0, i), comment: tokens.slice(i) };
  }
  return { body: tokens, comment: [] };
}

function handleOf(comment: Token[]): number | undefined {
  for (let i = 0; i < comment.length; i++) {
    if (comment[i]!.text === "handle") return parseUint(comment[i + 1]?.text);
  }
  return undefined;
}

/** Classifies the tokens of one rule (text format). */
export function classifyRuleTokens(body: Token[], comment: Token[]): Omit<NftRule, "family" | "table" | "chain" | "provenance" | "handle" | "text"> {
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
  for (let i = 0; i < body.length; i++) {
    const tok = body[i]!;
    if (tok.quoted) continue;
    const w = tok.text;
    if (w[0] === "@") {
      const name = w.slice(1).replace(/[,}]+$/, "");
      if (name && !setRefs.includes(name)) setRefs.push(name);
      continue;
    }
    if (w === "ct") {
      kw("ct");
      const key = body[i + 1]?.text;
      if (key === "count") kw("connlimit");
      if (key && !ct.includes(key)) ct.push(key);
      i++;
      continue;
    }
    if (w === "snat" || w === "dnat" || w === "masquerade" || w === "redirect") {
      const prev = body[i - 1]?.text ?? "";
      if (prev === "status" || prev.endsWith(",") || (body[i + 1]?.text ?? "").startsWith(",")) continue;
      kw(w);
      if (!nat.includes(w)) nat.push(w);
      continue;
    }
    if (w === "xt") {
      kw("xt");
      const kind = body[i + 1]?.text;
      const name = body[i + 2]?.text;
      if ((kind === "match" || kind === "target") && name) {
        compat.push({ kind, name });
        i += 2;
      }
      continue;
    }
    if (w === "counter") {
      kw("counter");
      if (body[i + 1]?.text === "packets") {
        const p = parseUint(body[i + 2]?.text);
        const b = body[i + 3]?.text === "bytes" ? parseUint(body[i + 4]?.text) : undefined;
        if (p !== undefined && b !== undefined) {
          counter = { packets: p, bytes: b };
          i += 4;
        }
      }
      continue;
    }
    if (w === "jump" || w === "goto") {
      kw(w);
      verdict = w;
      const target = body[i + 1]?.text;
      if (target) jumpTarget = target;
      i++;
      continue;
    }
    if (VERDICTS.has(w)) {
      kw(w);
      verdict = w;
      continue;
    }
    if (NFT_KEYWORDS.has(w)) {
      kw(w);
      continue;
    }
    if (META_SHORTHAND.has(w)) kw("meta");
  }
  // Older nftables print untranslatable iptables extensions as a comment: `# xt_recent`.
  for (const t of comment) {
    const w = t.text.startsWith("#") ? t.text.slice(1) : t.text;
    if (w.startsWith("xt_") && w.length > 3) {
      compat.push({ name: w.slice(3) });
      kw("xt");
    }
  }
  const out: ReturnType<typeof classifyRuleTokens> = { keywords, ct, nat, compat, setRefs };
  if (verdict) out.verdict = verdict;
  if (jumpTarget) out.jumpTarget = jumpTarget;
  if (counter) out.counter = counter;
  return out;
}

/** Counts elements of `{ a, b, c }` across lines: commas at depth 1 outside quotes. */
class ElementCounter {
  depth = 0;
  count = 0;
  private pending = false;
  /** Feeds text; returns true once the outer brace closed. */
  feed(text: string): boolean {
    let inQuote = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inQuote) {
        if (c === "\\") i++;
        else if (c === '"') inQuote = false;
        continue;
      }
      if (c === '"') {
        inQuote = true;
        if (this.depth === 1) this.pending = true;
        continue;
      }
      if (c === "{") {
        this.depth++;
        continue;
      }
      if (c === "}") {
        this.depth--;
        if (this.depth === 0) {
          if (this.pending) this.count++;
          this.pending = false;
          return true;
        }
        continue;
      }
      if (this.depth === 1) {
        if (c === ",") {
          if (this.pending) this.count++;
          this.pending = false;
        } else if (c !== " " && c !== "\t") this.pending = true;
      }
    }
    return false;
  }
}

type Block =
  | { kind: "table"; table: NftTable }
  | { kind: "chain"; chain: NftChain }
  | { kind: "set"; set: NftSet; elements?: ElementCounter }
  | { kind: "object"; object: NftObject }
  | { kind: "other" };

export const create: ParserFactory<NftRuleset> = (ctx) => {
  const path = ctx.path;
  const warnings = new WarningSink(path);
  const tables: NftTable[] = [];
  const notices: NftNotice[] = [];
  const stack: Block[] = [];
  let managedNext: { family: string; table: string } | undefined;
  let lastLine = 0;

  const currentTable = (): NftTable | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const b = stack[i]!;
      if (b.kind === "table") return b.table;
    }
    return undefined;
  };

  const closeBlock = (lineNo: number) => {
    const b = stack.pop();
    if (!b) {
      warnings.add("unmatched }", lineNo);
      return;
    }
    if (b.kind === "table") {
      b.table.provenance = prov(path, b.table.provenance.line, lineNo);
      tables.push(b.table);
    } else if (b.kind === "chain") b.chain.provenance = prov(path, b.chain.provenance.line, lineNo);
    else if (b.kind === "set") b.set.provenance = prov(path, b.set.provenance.line, lineNo);
    else if (b.kind === "object") b.object.provenance = prov(path, b.object.provenance.line, lineNo);
  };

  const onTableLine = (table: NftTable, tokens: Token[], handle: number | undefined, lineNo: number): boolean => {
    const w0 = tokens[0]?.text;
    const opens = tokens[tokens.length - 1]?.text === "{";
    if (w0 === "flags") {
      for (const t of tokens.slice(1)) for (const f of t.text.split(",")) if (f) table.flags.push(f);
      return true;
    }
    if ((w0 === "chain" || w0 === "set" || w0 === "map") && opens && tokens[1]) {
      const name = tokens[1].text;
      if (w0 === "chain") {
        const chain: NftChain = { name, base: false, ruleCount: 0, provenance: { path, line: lineNo } };
        if (handle !== undefined) chain.handle = handle;
        table.chains.push(chain);
        stack.push({ kind: "chain", chain });
      } else {
        const set: NftSet = { name, kind: w0, flags: [], elements: 0, provenance: { path, line: lineNo } };
        if (handle !== undefined) set.handle = handle;
        table.sets.push(set);
        stack.push({ kind: "set", set });
      }
      return true;
    }
    if (opens && tokens.length >= 3) {
      let kind: string | undefined;
      let name: string | undefined;
      if (w0 === "ct" && tokens.length >= 4) {
        kind = `ct ${tokens[1]!.text}`;
        name = tokens[2]!.text;
      } else if (w0 && OBJECT_KINDS.includes(w0)) {
        kind = w0;
        name = tokens[1]!.text;
      }
      if (kind && name) {
        const object: NftObject = { kind, name, provenance: { path, line: lineNo } };
        table.objects.push(object);
        stack.push({ kind: "object", object });
        return true;
      }
    }
    if (w0 === "comment") return true;
    return false;
  };

  const onChainLine = (chain: NftChain, table: NftTable, line: string, tokens: Token[], lineNo: number) => {
    const w0 = tokens[0]?.text;
    if (w0 === "type" && tokens.some((t) => t.text === "hook")) {
      chain.base = true;
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i]!.text;
        const next = tokens[i + 1]?.text.replace(/;$/, "");
        if (next === undefined) continue;
        if (t === "type") chain.type = next;
        else if (t === "hook") chain.hook = next;
        else if (t === "priority") chain.priority = next;
        else if (t === "policy") chain.policy = next;
        else if (t === "device") chain.device = next;
        else if (t === "devices") chain.device = next;
      }
      return;
    }
    if (w0 === "policy" && tokens.length <= 3) {
      const p = tokens[1]?.text.replace(/;$/, "");
      if (p) chain.policy = p;
      return;
    }
    if (w0 === "comment" && tokens.length === 2) return;
    const { body, comment } = splitComment(tokens);
    if (body.length === 0) {
      if (comment.length > 0) return; // a comment line
    }
    const cls = classifyRuleTokens(body, comment);
    const handle = handleOf(comment);
    const firstComment = comment[0];
    const text = clip((firstComment ? line.slice(0, firstComment.start) : line).trim());
    const rule: NftRule = {
      family: table.family,
      table: table.name,
      chain: chain.name,
      text,
      ...cls,
      provenance: { path, line: lineNo },
    };
    if (handle !== undefined) rule.handle = handle;
    table.rules.push(rule);
    chain.ruleCount++;
  };

  const onSetLine = (block: Extract<Block, { kind: "set" }>, line: string, tokens: Token[]) => {
    const set = block.set;
    const w0 = tokens[0]?.text;
    if (w0 === "elements" && tokens[1]?.text === "=") {
      const brace = line.indexOf("{");
      block.elements = new ElementCounter();
      if (brace >= 0 && block.elements.feed(line.slice(brace))) {
        set.elements += block.elements.count;
        block.elements = undefined;
      }
      return;
    }
    if (w0 === "type" || w0 === "typeof") set.type = line.trim().slice(w0.length).trim();
    else if (w0 === "flags") {
      for (const t of tokens.slice(1)) for (const f of t.text.split(",")) if (f) set.flags.push(f);
    } else if (w0 === "size") {
      const n = parseUint(tokens[1]?.text);
      if (n !== undefined) set.size = n;
    } else if (w0 === "timeout") {
      if (tokens[1]) set.timeout = tokens[1].text;
    }
  };

  const onObjectLine = (object: NftObject, tokens: Token[]) => {
    if (object.kind === "ct helper" && tokens[0]?.text === "type") {
      if (tokens[1]) object.helperType = tokens[1].text;
      const p = tokens.findIndex((t) => t.text === "protocol");
      if (p >= 0 && tokens[p + 1]) object.protocol = tokens[p + 1]!.text;
    }
  };

  return {
    push(line, lineNo) {
      lastLine = lineNo;
      const top = stack[stack.length - 1];
      // Continuation of a wrapped elements list.
      if (top && top.kind === "set" && top.elements) {
        if (isBinaryGarbage(line)) {
          warnings.add("binary data skipped", lineNo);
          return;
        }
        if (top.elements.feed(line)) {
          top.set.elements += top.elements.count;
          top.elements = undefined;
        }
        return;
      }
      const trimmed = line.trim();
      if (trimmed.length === 0) return;
      if (isBinaryGarbage(line)) {
        warnings.add("binary data skipped", lineNo);
        return;
      }
      if (trimmed === "}") {
        closeBlock(lineNo);
        return;
      }
      if (trimmed[0] === "#") {
        const prefix = "# Warning: table ";
        if (trimmed.startsWith(prefix) && trimmed.includes("managed by iptables-nft")) {
          const words = trimmed.slice(prefix.length).split(" ");
          const family = words[0] ?? "";
          const table = words[1] ?? "";
          managedNext = { family, table };
          notices.push({ kind: "managed-by-iptables-nft", family, table, text: trimmed, provenance: { path, line: lineNo } });
        } else if (trimmed.startsWith("# Warning:")) {
          notices.push({ kind: "warning", text: trimmed, provenance: { path, line: lineNo } });
        }
        return;
      }
      if (trimmed.startsWith("Error:") || trimmed.startsWith("netlink: Error")) {
        notices.push({ kind: "error", text: trimmed, provenance: { path, line: lineNo } });
        return;
      }
      const tokens = tokenize(trimmed);
      const { body, comment } = splitComment(tokens);
      if (!top) {
        if (body[0]?.text === "table" && body.length >= 3) {
          const hasFamily = body.length >= 4;
          const family = hasFamily ? body[1]!.text : "ip";
          const name = hasFamily ? body[2]!.text : body[1]!.text;
          const handle = handleOf(comment);
          const table: NftTable = {
            family,
            name,
            flags: [],
            managedByIptablesNft: managedNext !== undefined && managedNext.family === family && managedNext.table === name,
            chains: [],
            sets: [],
            objects: [],
            rules: [],
            provenance: { path, line: lineNo },
          };
          if (handle !== undefined) table.handle = handle;
          managedNext = undefined;
          if (body[body.length - 1]?.text !== "{") warnings.add("table line without {", lineNo);
          stack.push({ kind: "table", table });
          return;
        }
        warnings.add("unrecognised line outside a table", lineNo);
        return;
      }
      if (top.kind === "table") {
        if (!onTableLine(top.table, body, handleOf(comment), lineNo)) {
          if (body[body.length - 1]?.text === "{") stack.push({ kind: "other" });
          else warnings.add("unrecognised line in table", lineNo);
        }
        return;
      }
      if (top.kind === "chain") {
        const table = currentTable();
        if (table) onChainLine(top.chain, table, trimmed, tokens, lineNo);
        return;
      }
      if (top.kind === "set") {
        onSetLine(top, trimmed, body);
        return;
      }
      if (top.kind === "object") {
        onObjectLine(top.object, body);
        return;
      }
      if (body[body.length - 1]?.text === "{") stack.push({ kind: "other" });
    },
    end() {
      if (stack.length > 0) {
        warnings.add(`input ended inside ${stack.length} open block(s) (output cut short?)`, lastLine);
        while (stack.length > 0) closeBlock(lastLine);
      }
      return { value: { tables, notices, summary: summarise(tables) }, warnings: warnings.finish() };
    },
  };
};
