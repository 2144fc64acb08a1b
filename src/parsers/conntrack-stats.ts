/**
 * Parses the output of `conntrack -S` and `conntrack -S expect` (conntrack-tools), every era.
 *
 * Real sample (conntrack-tools 1.4.7, kernel 6.18, after a table-full moment; tab after the CPU
 * number, trailing space):
 *
 *   cpu=0   	found=0 invalid=2 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0
 *   cpu=1   	found=0 invalid=0 insert=0 insert_failed=0 drop=31 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0
 *
 * `conntrack -S expect`:   cpu=0   	expect_new=0 expect_create=0 expect_delete=0
 *
 * Which counters exist depends on the kernel (3.x–4.7 also print searched/new/delete/delete_list,
 * 5.10+ drop `ignore` and add clash_resolve, 5.15+ chaintoolong): every counter is kept by name.
 * conntrack-tools <= 1.4.4 fall back to /proc when netlink fails and print `%-10s\t\t%-8u` lines for
 * CPU 0 only (`drop      \t\t310     `): read as one row, flagged `partial` with the reason.
 * An `entries` counter (only in /proc-derived output) is the per-netns table size: never summed.
 */
import { z } from "zod";
import type { ParseWarning, ParserFactory } from "./types.js";
import {
  isCounterName,
  isDecimal,
  provenanceAt,
  provenanceSchema,
  readToolMessage,
  skippedLineWarning,
  stripCr,
  toolMessageSchema,
  type ToolMessage,
} from "./conntrack/common.js";

const counterRecord = z.record(z.string(), z.number().int().nonnegative());

export const schema = z.object({
  /** `per-cpu` = `cpu=N name=value…` lines; `proc-fallback` = conntrack-tools <= 1.4.4 key/value lines. */
  format: z.enum(["per-cpu", "proc-fallback", "mixed", "empty"]),
  cpus: z.array(
    z.object({
      cpu: z.number().int().nonnegative(),
      /** `expect` when every counter is an expect_* counter (`conntrack -S expect`). */
      kind: z.enum(["conntrack", "expect"]),
      counters: counterRecord,
      /** False when a token of the row could not be read (cut line): totals then undercount. */
      complete: z.boolean(),
      provenance: provenanceSchema,
    }),
  ),
  /** Each counter summed over the rows (without `entries`). */
  totals: counterRecord,
  /** Counter names in first-seen order (without `entries`). */
  counterNames: z.array(z.string()),
  /** Table size when the output carries it (/proc fallback); per netns, not per CPU. */
  entries: z.object({ value: z.number().int().nonnegative(), provenance: provenanceSchema }).nullable(),
  /** True when the rows do not cover every CPU or a row was cut. */
  partial: z.boolean(),
  partialReason: z.string().nullable(),
  toolMessages: z.array(toolMessageSchema),
});
export type ConntrackStats = z.infer<typeof schema>;
type CpuRow = ConntrackStats["cpus"][number];

const FALLBACK_REASON =
  "conntrack-tools <= 1.4.4 /proc fallback: only the first row (CPU 0) of /proc/net/stat/nf_conntrack is printed";

export const create: ParserFactory<ConntrackStats> = (ctx) => {
  const warnings: ParseWarning[] = [];
  const rows: CpuRow[] = [];
  const seen = new Set<string>();
  const names: string[] = [];
  const nameSet = new Set<string>();
  const toolMessages: ToolMessage[] = [];
  let entries: ConntrackStats["entries"] = null;
  let fallback: { counters: Map<string, number>; first: number; last: number } | null = null;
  let perCpuLines = 0;

  const noteName = (name: string): void => {
    if (name === "entries" || nameSet.has(name)) return;
    nameSet.add(name);
    names.push(name);
  };

  const readPerCpu = (line: string, lineNo: number): void => {
    const tokens = line.trim().split(/\s+/);
    const cpuText = (tokens[0] ?? "").slice(4);
    if (!isDecimal(cpuText)) {
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "a `cpu=N` statistics row"));
      return;
    }
    const cpu = Number(cpuText);
    const counters = new Map<string, number>();
    let complete = true;
    for (let i = 1; i < tokens.length; i++) {
      const token = tokens[i] ?? "";
      const eq = token.indexOf("=");
      const name = eq > 0 ? token.slice(0, eq) : "";
      const value = eq > 0 ? token.slice(eq + 1) : "";
      if (!isCounterName(name) || !isDecimal(value)) {
        complete = false;
        const shown = token.length > 60 ? `${token.slice(0, 60)}…` : token;
        warnings.push({ path: ctx.path, line: lineNo, message: `cpu=${cpu}: unreadable counter token ${JSON.stringify(shown)} skipped` });
        continue;
      }
      if (name === "entries") {
        if (entries === null) entries = { value: Number(value), provenance: provenanceAt(ctx.path, lineNo) };
        continue;
      }
      counters.set(name, Number(value));
    }
    if (counters.size === 0) {
      warnings.push({ path: ctx.path, line: lineNo, message: `cpu=${cpu}: row without any counter skipped` });
      return;
    }
    perCpuLines++;
    let kind: CpuRow["kind"] = "expect";
    for (const name of counters.keys()) if (!name.startsWith("expect_")) kind = "conntrack";
    const key = `${kind}:${cpu}`;
    if (seen.has(key)) {
      warnings.push({ path: ctx.path, line: lineNo, message: `second ${kind} row for cpu=${cpu} ignored (output captured twice?)` });
      return;
    }
    seen.add(key);
    for (const name of counters.keys()) noteName(name);
    rows.push({ cpu, kind, counters: Object.fromEntries(counters), complete, provenance: provenanceAt(ctx.path, lineNo) });
  };

  /** `%-10s\t\t%-8u`: exactly two tokens, a counter name and a decimal. */
  const readFallback = (line: string, lineNo: number): boolean => {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length !== 2) return false;
    const [name = "", value = ""] = tokens;
    if (!isCounterName(name) || !isDecimal(value)) return false;
    if (fallback === null) fallback = { counters: new Map(), first: lineNo, last: lineNo };
    if (fallback.counters.has(name)) {
      warnings.push({ path: ctx.path, line: lineNo, message: `repeated fallback counter ${name} ignored` });
      return true;
    }
    fallback.counters.set(name, Number(value));
    fallback.last = lineNo;
    return true;
  };

  return {
    push(raw, lineNo) {
      const line = stripCr(raw);
      if (line.trim() === "") return;
      if (line.startsWith("cpu=")) return readPerCpu(line, lineNo);
      const tool = readToolMessage(line, ctx.path, lineNo);
      if (tool !== null) {
        toolMessages.push(tool);
        return;
      }
      if (readFallback(line, lineNo)) return;
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "conntrack -S output"));
    },
    end() {
      let partialReason: string | null = null;
      const fb = fallback as { counters: Map<string, number>; first: number; last: number } | null;
      if (fb !== null) {
        const entriesValue = fb.counters.get("entries");
        if (entriesValue !== undefined && entries === null) {
          entries = { value: entriesValue, provenance: provenanceAt(ctx.path, fb.first) };
        }
        fb.counters.delete("entries");
        if (seen.has("conntrack:0")) {
          warnings.push({ path: ctx.path, line: fb.first, message: "fallback key/value block ignored: a cpu=0 row exists already" });
        } else if (fb.counters.size > 0) {
          for (const name of fb.counters.keys()) noteName(name);
          rows.push({
            cpu: 0,
            kind: "conntrack",
            counters: Object.fromEntries(fb.counters),
            complete: true,
            provenance: provenanceAt(ctx.path, fb.first, fb.last),
          });
          partialReason = FALLBACK_REASON;
          warnings.push({ path: ctx.path, line: fb.first, message: `${FALLBACK_REASON}; totals cover CPU 0 only` });
        }
      }
      const cut = rows.filter((r) => !r.complete);
      if (cut.length > 0) {
        const where = cut.map((r) => r.provenance.line).join(", ");
        const reason = `row(s) at line ${where} could not be read completely`;
        partialReason = partialReason === null ? reason : `${partialReason}; ${reason}`;
      }
      const totals = new Map<string, number>();
      for (const row of rows) {
        for (const [name, value] of Object.entries(row.counters)) totals.set(name, (totals.get(name) ?? 0) + value);
      }
      const format: ConntrackStats["format"] =
        rows.length === 0 ? "empty" : fb !== null && perCpuLines > 0 ? "mixed" : fb !== null ? "proc-fallback" : "per-cpu";
      return {
        value: {
          format,
          cpus: rows,
          totals: Object.fromEntries(totals),
          counterNames: names,
          entries,
          partial: partialReason !== null,
          partialReason,
          toolMessages,
        },
        warnings,
      };
    },
  };
};
