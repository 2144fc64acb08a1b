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
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c === 0xfffd) return true;
  }
  return false;
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
 * Splits on spaces/tabs, honouring double quotes with backslash escapes (iptables-save quotes
 * `--comment "web \"frontend\" ports"`). An unterminated quote runs to the end of the line.
 */
export function tokenize(line: string, from = 0): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = from;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    const start = i;
    let text = "";
    let quoted = false;
    let segStart = i;
    while (i < n) {
      c = line.charCodeAt(i);
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
    text += line.slice(segStart, i);
    tokens.push({ text, start, end: i, quoted });
  }
  return tokens;
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
