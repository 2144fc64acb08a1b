/**
 * Small helpers shared by the system / bundle-metadata parsers (lsmod, sysctl, meminfo, sos …).
 * Nothing here reads files: provenance schema, a bounded warning list and the line guard that
 * every parser calls first (binary garbage and absurdly long lines are skipped with a warning).
 */
import { z } from "zod";
import type { ParseContext, ParserFactory, ParseWarning, Provenance } from "./types.js";

export const provenanceSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  lastLine: z.number().int().optional(),
});

/** Longest line the small system parsers look at; longer ones are skipped (a sysctl value is never this long). */
export const SYS_MAX_LINE = 64 * 1024;

/** Keeps the first `limit` warnings and counts the rest, so a garbage file cannot grow memory without bound. */
export class WarningSink {
  private readonly list: ParseWarning[] = [];
  private dropped = 0;
  constructor(
    private readonly path: string,
    private readonly limit = 200,
  ) {}
  add(line: number | undefined, message: string): void {
    if (this.list.length < this.limit) {
      this.list.push(line === undefined ? { path: this.path, message } : { path: this.path, line, message });
    } else {
      this.dropped++;
    }
  }
  done(): ParseWarning[] {
    if (this.dropped > 0) {
      return [...this.list, { path: this.path, message: `${this.dropped} more warnings not shown` }];
    }
    return this.list;
  }
}

/** Control characters other than tab, or the replacement character left by a failed UTF-8 decode. */
const BINARY_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

/**
 * Returns true when the line must be skipped (and records why). Cheap checks first: the length test
 * runs before any regex so a 5 MB line costs one comparison.
 */
export function skipLine(line: string, lineNo: number, warnings: WarningSink, maxLen = SYS_MAX_LINE): boolean {
  if (line.length > maxLen) {
    warnings.add(lineNo, `line ${lineNo} skipped: ${line.length} characters, longer than ${maxLen}`);
    return true;
  }
  if (BINARY_CHAR.test(line)) {
    warnings.add(lineNo, `line ${lineNo} skipped: binary or control characters`);
    return true;
  }
  return false;
}

export function prov(ctx: ParseContext, line: number, lastLine?: number): Provenance {
  return lastLine === undefined || lastLine === line ? { path: ctx.path, line } : { path: ctx.path, line, lastLine };
}

/** Kernel module names: modprobe and the kernel treat `-` and `_` alike; the canonical form uses `_`. */
export function normaliseModuleName(name: string): string {
  return name.replaceAll("-", "_");
}

/** Parses a non-negative decimal integer, or null (no partial matches: "12abc" is null). */
export function parseUInt(text: string): number | null {
  if (text.length === 0 || text.length > 20) return null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** Splits on runs of spaces/tabs without a regex. */
export function fields(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const ws = c === 32 || c === 9;
    if (ws) {
      if (start >= 0) {
        out.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/**
 * A parser for commands that print one meaningful line (`uname -a`, `uptime`): the first line
 * `parse` accepts is the fact; later lines are warned about; `check` may add a warning about it.
 */
export function oneLineParser<T extends { form: string; provenance: Provenance | null }>(
  what: string,
  empty: T,
  parse: (text: string) => Omit<T, "provenance"> | null,
  check: (parsed: Omit<T, "provenance">) => string | null = () => null,
): ParserFactory<T> {
  return (ctx) => {
    const warnings = new WarningSink(ctx.path);
    let result: T = empty;
    return {
      push(line, lineNo) {
        if (skipLine(line, lineNo, warnings, 4096)) return;
        const text = line.trim();
        if (text === "") return;
        if (result.form !== "none") {
          warnings.add(lineNo, `line ${lineNo}: extra line ignored`);
          return;
        }
        const parsed = parse(text);
        if (parsed === null) {
          warnings.add(lineNo, `line ${lineNo}: not ${what} output`);
          return;
        }
        const problem = check(parsed);
        if (problem) warnings.add(lineNo, `line ${lineNo}: ${problem}`);
        result = { ...parsed, provenance: prov(ctx, lineNo) } as T;
      },
      end() {
        return { value: result, warnings: warnings.done() };
      },
    };
  };
}
