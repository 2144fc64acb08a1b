/**
 * Small text helpers shared by the rule-set parsers (iptables-save, iptables listings, nft, ipset).
 * No regexes on the hot paths: these run once per line of a 200,000-rule save.
 */
import { z } from "zod";
import type { ParseWarning, Provenance } from "../types.js";

export const provenanceSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  lastLine: z.number().int().optional(),
});

/** Longest string kept from one field (a comment, an option string); longer text is cut. */
export const MAX_FIELD_CHARS = 4096;

/**
 * True when a line holds bytes no rule-set tool prints: NUL and other C0 controls (tab excepted),
 * DEL, or U+FFFD (what a decoder leaves for invalid UTF-8).
 */
export function isBinaryGarbage(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (isGarbageChar(line.charCodeAt(i))) return true;
  return false;
}

function isGarbageChar(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || c === 0x7f || c === 0xfffd;
}

export function clip(text: string): string {
  return text.length > MAX_FIELD_CHARS ? text.slice(0, MAX_FIELD_CHARS) : text;
}

export interface Token {
  /** Token text with quotes removed and `\"` / `\\` unescaped. */
  text: string;
  /** Offset of the first character (the opening quote for quoted tokens). */
  start: number;
  /** Offset just past the last character. */
  end: number;
  quoted: boolean;
}

/**
 * One token from `start` (not a space): up to the next space or tab outside double quotes; quotes
 * are removed and backslash escapes inside them resolved. An unterminated quote runs to the end.
 */
function readToken(line: string, start: number): Token {
  const n = line.length;
  let i = start;
  let text = "";
  let quoted = false;
  let segStart = i;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09) break;
    if (c === 0x22) {
      text += line.slice(segStart, i);
      quoted = true;
      i++;
      segStart = i;
      while (i < n) {
        const q = line.charCodeAt(i);
        if (q === 0x5c && i + 1 < n) {
          text += line.slice(segStart, i);
          text += line[i + 1];
          i += 2;
          segStart = i;
          continue;
        }
        if (q === 0x22) break;
        i++;
      }
      text += line.slice(segStart, i);
      if (i < n) i++; // closing quote
      segStart = i;
      continue;
    }
    i++;
  }
  return { text: text + line.slice(segStart, i), start, end: i, quoted };
}

/**
 * Splits on spaces/tabs, honouring double quotes with backslash escapes (iptables-save quotes
 * `--comment "web \"frontend\" ports"`). An unterminated quote runs to the end of the line.
 */
export function tokenize(line: string, from = 0): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = from;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    const token = readToken(line, i);
    tokens.push(token);
    i = token.end;
  }
  return tokens;
}

/**
 * The tokens of one line (what `tokenize` gives) as offsets in reused typed arrays: no object per
 * token. Token k is line[starts[k], ends[k]); quoted tokens also have their text (quotes removed,
 * escapes undone) in texts[k].
 */
export class TokenBuffer {
  line = "";
  count = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  quoted = new Uint8Array(64);
  texts: string[] = [];
  /** True when the line filled holds a character `isBinaryGarbage` rejects (checked on the way). */
  garbage = false;

  /** Splits `line` from `from`; returns the token count. */
  fill(line: string, from = 0): number {
    this.line = line;
    this.garbage = false;
    const n = line.length;
    let starts = this.starts;
    let ends = this.ends;
    let k = 0;
    let i = from;
    while (i < n) {
      let c = line.charCodeAt(i);
      if (c === 0x20 || c === 0x09) {
        i++;
        continue;
      }
      if (k === starts.length) {
        this.grow();
        starts = this.starts;
        ends = this.ends;
      }
      const start = i;
      while (i < n) {
        c = line.charCodeAt(i);
        if (c <= 0x22) {
          if (c === 0x20 || c === 0x09 || c === 0x22) break;
          if (c < 0x20) this.garbage = true;
        } else if (c >= 0x7f && (c === 0x7f || c === 0xfffd)) this.garbage = true;
        i++;
      }
      if (i < n && c === 0x22) {
        i = this.quotedToken(line, start, i, k);
        this.quoted[k] = 1;
      } else this.quoted[k] = 0;
      starts[k] = start;
      ends[k] = i;
      k++;
    }
    this.count = k;
    return k;
  }

  /** The rest of a token that has a quote at `i`, as `tokenize` reads it; returns its end. */
  private quotedToken(line: string, start: number, i: number, k: number): number {
    const token = readToken(line, start);
    // The part before `i` was checked by the caller.
    for (let at = i; at < token.end; at++) if (isGarbageChar(line.charCodeAt(at))) this.garbage = true;
    this.texts[k] = token.text;
    return token.end;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const quoted = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    quoted.set(this.quoted);
    this.starts = starts;
    this.ends = ends;
    this.quoted = quoted;
  }

  /** Text of token k (undefined past the last token). */
  text(k: number): string | undefined {
    if (k >= this.count) return undefined;
    return this.quoted[k] === 1 ? this.texts[k]! : this.line.slice(this.starts[k]!, this.ends[k]!);
  }

  /** Text of token k through an interner (no new string when an equal one was seen). */
  sharedText(k: number, names: Interner): string {
    return this.quoted[k] === 1 ? names.get(this.texts[k]!) : names.slice(this.line, this.starts[k]!, this.ends[k]!);
  }

  /** True when token k exists and is exactly `word`, unquoted. */
  is(k: number, word: string): boolean {
    return k < this.count && this.quoted[k] === 0 && this.ends[k]! - this.starts[k]! === word.length && this.line.startsWith(word, this.starts[k]!);
  }
}

const INTERN_SLOTS = 8192;
/** Longest string shared (longer ones are rarely repeated, and comparing them costs more). */
const INTERN_MAX_CHARS = 128;

export class Interner {
  private readonly table: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);
  /**
   * One value the caller may attach to each kept string (the parsed form of an option text, say):
   * `payload[lastSlot]` after `slice`, cleared when the slot's string is replaced; lastSlot is −1
   * when the string was not kept.
   */
  readonly payload: unknown[] = new Array<unknown>(INTERN_SLOTS).fill(undefined);
  lastSlot = -1;

  /** `line.slice(start, end)`, shared with an earlier equal slice when there is one. */
  slice(line: string, start: number, end: number): string {
    const len = end - start;
    if (len > INTERN_MAX_CHARS || len === 0) {
      this.lastSlot = -1;
      return line.slice(start, end);
    }
    // A hash of the length and five characters: cheap, and a collision only costs a new string.
    const last = end - 1;
    let h = Math.imul(len, 0x9e3779b1) ^ line.charCodeAt(start);
    h = Math.imul(h ^ line.charCodeAt(last), 0x85ebca6b);
    h = Math.imul(h ^ line.charCodeAt(start + (len >> 1)), 0xc2b2ae35);
    h = Math.imul(h ^ line.charCodeAt(last - 1 < start ? start : last - 1), 0x27d4eb2f) ^ line.charCodeAt(start + (len >> 2));
    const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
    this.lastSlot = slot;
    const hit = this.table[slot];
    if (hit !== undefined && hit.length === len && line.startsWith(hit, start)) return hit;
    const s = line.slice(start, end);
    this.table[slot] = s;
    this.payload[slot] = undefined;
    return s;
  }

  get(s: string): string {
    return this.slice(s, 0, s.length);
  }

  clear(): void {
    this.table.fill(undefined);
    this.payload.fill(undefined);
  }
}

/** Splits on whitespace without quote handling, keeping offsets (for column listings). */
export function splitColumns(line: string, maxTokens: number): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n && tokens.length < maxTokens) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = line.charCodeAt(i);
      if (d === 0x20 || d === 0x09) break;
      i++;
    }
    tokens.push({ text: line.slice(start, i), start, end: i, quoted: false });
  }
  return tokens;
}

/** Parses a non-negative decimal integer; undefined when the text is not one. */
export function parseUint(text: string | undefined): number | undefined {
  if (text === undefined || text.length === 0 || text.length > 20) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return Number(text);
}

/** Collects warnings with a cap, so a file of garbage cannot grow the list without bound. */
export class WarningSink {
  readonly list: ParseWarning[] = [];
  private dropped = 0;
  constructor(
    private readonly path: string,
    private readonly cap = 200,
  ) {}
  add(message: string, line?: number): void {
    if (this.list.length >= this.cap) {
      this.dropped++;
      return;
    }
    this.list.push(line === undefined ? { path: this.path, message } : { path: this.path, line, message });
  }
  finish(): ParseWarning[] {
    if (this.dropped > 0) this.list.push({ path: this.path, message: `${this.dropped} more warnings not shown` });
    return this.list;
  }
}

export function prov(path: string, line: number, lastLine?: number): Provenance {
  return lastLine === undefined || lastLine === line ? { path, line } : { path, line, lastLine };
}
