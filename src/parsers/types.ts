/**
 * The contract every parser implements.
 *
 * A parser is fed the lines of one bundle file (already split, without the trailing "\n" or "\r")
 * and returns typed facts plus warnings. Parsers never throw on odd input and never keep more
 * than they need: large sources (a 1 GB conntrack dump, weeks of kernel log) are pushed line by
 * line while the archive streams, so a parser must aggregate as it goes.
 */
import type { z } from "zod";

/** Where a fact came from: the file inside the bundle and the 1-based line numbers. */
export interface Provenance {
  /** Normalised path inside the bundle, e.g. `sos_commands/kernel/dmesg`. */
  path: string;
  line: number;
  /** Last line for facts spanning several lines (a wrapped message, a chain block). */
  lastLine?: number;
}

export interface ParseWarning {
  path: string;
  line?: number;
  message: string;
}

export interface ParseContext {
  /** Normalised path of the file inside the bundle. */
  path: string;
  /** When the bundle was collected, if known: used for year inference in syslog lines. */
  collectedAt?: Date;
  /**
   * The collection time is not known yet but will be (a file parsed while the archive streams):
   * syslog times get a placeholder year, replaced by settleSyslogYears once it is known.
   */
  yearLater?: boolean;
}

export interface LineParser<T> {
  /** Called once per line, in order; lineNo is 1-based. */
  push(line: string, lineNo: number): void;
  /**
   * Optional byte-level entry for parsers of huge sources: the line is buf[start, end) (no "\n";
   * a trailing "\r" may remain). The streaming reader prefers it, so that no string is made per
   * line; a parser that has it must give the same result as through `push`.
   */
  pushBytes?(buf: Uint8Array, start: number, end: number, lineNo: number): void;
  /** Called once after the last line. */
  end(): ParseResult<T>;
}

export interface ParseResult<T> {
  value: T;
  warnings: ParseWarning[];
}

/** Each parser module exports one factory, its zod schema and its output type. */
export type ParserFactory<T> = (ctx: ParseContext) => LineParser<T>;

export interface ParserModule<S extends z.ZodType> {
  schema: S;
  create: ParserFactory<z.infer<S>>;
}

/** Longest line a parser is handed; longer lines are cut and a warning is raised by the reader. */
export const MAX_LINE_CHARS = 1 << 20;

/** Feeds a whole text to a parser; for tests and small files. CRLF and a missing final newline are fine. */
export function parseText<T>(factory: ParserFactory<T>, text: string, ctx: ParseContext): ParseResult<T> {
  const parser = factory(ctx);
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, i) => parser.push(line.endsWith("\r") ? line.slice(0, -1) : line, i + 1));
  return parser.end();
}
