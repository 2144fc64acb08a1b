/**
 * Parses /proc/net/stat/nf_conntrack (also proc/<pid>/net/stat/nf_conntrack in sos 4.0 bundles).
 *
 * Real sample (sosreport, Debian 12, kernel 6.1, table full; two possible CPUs):
 *
 *   entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
 *   00000080  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000076 00000000 00000000  00000000 00000000 00000000 00000000
 *   00000080  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000036 00000000 00000000  00000000 00000000 00000000 00000000
 *
 * One header, then one `%08x` row per possible CPU. The header names the era (kernel-facts §3.1):
 * 16 columns on 2.6.x, + search_restart on 3.x–5.9, clashres replacing searched on 5.10–5.14,
 * chainlength replacing delete_list on 5.15+. `entries` is the per-netns table size printed on
 * every row: it is taken from the first row and never summed.
 */
import { z } from "zod";
import type { ParseWarning, ParserFactory } from "./types.js";
import { isCounterName, provenanceAt, provenanceSchema, skippedLineWarning, stripCr } from "./conntrack/common.js";

const counterRecord = z.record(z.string(), z.number().int().nonnegative());

export const ERAS = ["2.6.x", "3.x-5.9", "5.10-5.14", "5.15+", "unknown"] as const;

export const schema = z.object({
  /** Kernel range the header belongs to; `unknown` when no known header was seen. */
  era: z.enum(ERAS),
  /** Column names as printed (the header), or [] without a header. */
  columns: z.array(z.string()),
  header: provenanceSchema.nullable(),
  rows: z.array(
    z.object({
      /** 0-based row index = possible-CPU order (not necessarily the CPU id when CPUs are offline). */
      cpuIndex: z.number().int().nonnegative(),
      /** Decimal values by column name, without `entries`. */
      counters: counterRecord,
      /** False when the row had fewer well-formed cells than the header (cut line). */
      complete: z.boolean(),
      provenance: provenanceSchema,
    }),
  ),
  /** Each counter summed over the rows (without `entries`). */
  totals: z.record(z.string(), z.number().int().nonnegative()),
  /** Table size of this netns (first row), not a sum. */
  entries: z.object({ value: z.number().int().nonnegative(), provenance: provenanceSchema }).nullable(),
  /** True when rows disagree on `entries` (table changing while the file was read). */
  entriesDisagree: z.boolean(),
});
export type ProcStatNfConntrack = z.infer<typeof schema>;
type Row = ProcStatNfConntrack["rows"][number];

export function detectEra(columns: readonly string[]): ProcStatNfConntrack["era"] {
  const has = (name: string): boolean => columns.includes(name);
  if (columns[0] !== "entries" || !has("found") || !has("insert_failed")) return "unknown";
  if (has("clashres") && has("chainlength")) return "5.15+";
  if (has("clashres") && has("delete_list")) return "5.10-5.14";
  if (has("searched") && has("search_restart")) return "3.x-5.9";
  if (has("searched") && columns.length === 16) return "2.6.x";
  return "unknown";
}

/** A `%08x` cell: exactly eight hex digits (the kernel prints unsigned ints with %08x). */
function readHexCell(cell: string): number | null {
  if (cell.length !== 8) return null;
  for (let i = 0; i < 8; i++) {
    const c = cell.charCodeAt(i);
    const hex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
    if (!hex) return null;
  }
  return parseInt(cell, 16);
}

export const create: ParserFactory<ProcStatNfConntrack> = (ctx) => {
  const warnings: ParseWarning[] = [];
  let columns: string[] = [];
  let header: ProcStatNfConntrack["header"] = null;
  const rows: Row[] = [];
  let entries: ProcStatNfConntrack["entries"] = null;
  let entriesDisagree = false;

  const readHeader = (line: string, lineNo: number): void => {
    const names = line.trim().split(/\s+/);
    if (header !== null) {
      if (names.join(" ") !== columns.join(" ")) {
        warnings.push({ path: ctx.path, line: lineNo, message: "second, different header ignored (two files concatenated?)" });
      }
      return;
    }
    if (!names.every(isCounterName)) {
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "the nf_conntrack stat header"));
      return;
    }
    columns = names;
    header = provenanceAt(ctx.path, lineNo);
  };

  const readRow = (line: string, lineNo: number): void => {
    if (header === null) {
      warnings.push({ path: ctx.path, line: lineNo, message: "data row before any header skipped" });
      return;
    }
    const cells = line.trim().split(/\s+/);
    const counters = new Map<string, number>();
    let good = 0;
    for (let i = 0; i < cells.length && i < columns.length; i++) {
      const value = readHexCell(cells[i] ?? "");
      if (value === null) break;
      good++;
      const name = columns[i] ?? "";
      if (name === "entries") {
        if (entries === null) entries = { value, provenance: provenanceAt(ctx.path, lineNo) };
        else if (entries.value !== value) entriesDisagree = true;
      } else {
        counters.set(name, value);
      }
    }
    if (good === 0) {
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "a row of hex counters"));
      return;
    }
    const complete = good === columns.length && cells.length === columns.length;
    if (!complete) {
      warnings.push({
        path: ctx.path,
        line: lineNo,
        message: `row has ${good} readable cells for ${columns.length} columns (cut or garbled line): kept what was readable`,
      });
    }
    rows.push({ cpuIndex: rows.length, counters: Object.fromEntries(counters), complete, provenance: provenanceAt(ctx.path, lineNo) });
  };

  return {
    push(raw, lineNo) {
      const line = stripCr(raw);
      const trimmed = line.trimStart();
      if (trimmed === "") return;
      if (trimmed.startsWith("entries ")) return readHeader(line, lineNo);
      const c = trimmed.charCodeAt(0);
      const startsHex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
      if (startsHex) return readRow(line, lineNo);
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "/proc/net/stat/nf_conntrack content"));
    },
    end() {
      const era = detectEra(columns);
      if (header !== null && era === "unknown") {
        warnings.push({ path: ctx.path, line: (header as { line: number }).line, message: `unknown header layout (${columns.length} columns): counters kept by name` });
      }
      if (entriesDisagree && entries !== null) {
        warnings.push({
          path: ctx.path,
          line: (entries as { provenance: { line: number } }).provenance.line,
          message: "rows disagree on `entries` (table changed while the file was read): first row used",
        });
      }
      const totals = new Map<string, number>();
      for (const row of rows) {
        for (const [name, value] of Object.entries(row.counters)) totals.set(name, (totals.get(name) ?? 0) + value);
      }
      return {
        value: { era, columns, header, rows, totals: Object.fromEntries(totals), entries, entriesDisagree },
        warnings,
      };
    },
  };
};
