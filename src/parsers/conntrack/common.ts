/**
 * Small pieces shared by the conntrack parsers: the provenance schema, the conntrack-tools
 * banner line (`conntrack v1.4.7 (conntrack-tools): 22 flow entries have been shown.`) and a
 * cheap "is this binary junk" test used only on lines that failed to parse.
 */
import { z } from "zod";
import type { ParseWarning, Provenance } from "../types.js";

export const provenanceSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  lastLine: z.number().int().optional(),
});

export function provenanceAt(path: string, line: number, lastLine?: number): Provenance {
  return lastLine === undefined || lastLine === line ? { path, line } : { path, line, lastLine };
}

/** A line printed by the conntrack tool itself (stderr merged into the capture). */
export const toolMessageSchema = z.object({
  text: z.string(),
  /** `N` of "N flow entries have been shown.", when the line is that summary. */
  flowEntriesShown: z.number().int().nullable(),
  provenance: provenanceSchema,
});
export type ToolMessage = z.infer<typeof toolMessageSchema>;

const TOOL_PREFIX = "conntrack v";
const SHOWN_SUFFIX = " flow entries have been shown.";
/** Longest tool line we keep verbatim. */
const MAX_KEPT_TEXT = 300;

/** Recognises `conntrack v1.4.7 (conntrack-tools): …`; returns null for any other line. */
export function readToolMessage(line: string, path: string, lineNo: number): ToolMessage | null {
  if (!line.startsWith(TOOL_PREFIX)) return null;
  const marker = line.indexOf("(conntrack-tools): ");
  if (marker < 0 || marker > 40) return null;
  const rest = line.slice(marker + "(conntrack-tools): ".length);
  let shown: number | null = null;
  if (rest.endsWith(SHOWN_SUFFIX)) {
    const digits = rest.slice(0, rest.length - SHOWN_SUFFIX.length);
    if (isDecimal(digits)) shown = Number(digits);
  }
  return {
    text: line.length > MAX_KEPT_TEXT ? `${line.slice(0, MAX_KEPT_TEXT)}…` : line,
    flowEntriesShown: shown,
    provenance: provenanceAt(path, lineNo),
  };
}

/** Plain unsigned decimal that fits exactly in a double. */
export function isDecimal(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** True when the line holds NUL, other C0 controls (tab aside) or U+FFFD from bad UTF-8. */
export function looksBinary(line: string): boolean {
  const n = Math.min(line.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 0xfffd || c === 127) return true;
  }
  return false;
}

/** Warning text for a line that was skipped: names binary junk as such, quotes a short prefix otherwise. */
export function skippedLineWarning(path: string, lineNo: number, line: string, what: string): ParseWarning {
  if (looksBinary(line)) return { path, line: lineNo, message: `binary data skipped (not ${what})` };
  const shown = line.length > 80 ? `${line.slice(0, 80)}… (${line.length} chars)` : line;
  return { path, line: lineNo, message: `unrecognised line skipped (not ${what}): ${JSON.stringify(shown)}` };
}

/** Counter names as printed by the kernel/conntrack-tools: lower-case identifiers. */
export function isCounterName(s: string): boolean {
  if (s.length === 0 || s.length > 40) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 97 && c <= 122) || c === 95 || (i > 0 && c >= 48 && c <= 57);
    if (!ok) return false;
  }
  return true;
}

/** Strips a stray trailing CR (CRLF files fed by a reader that split on "\n" only). */
export function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
}
