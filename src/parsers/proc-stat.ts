/**
 * /proc/stat (sos: `proc/stat`): boot time (`btime`, seconds since the epoch) and the CPU count,
 * used to turn dmesg's seconds-since-boot into wall-clock times.
 *
 * Real sample (Debian 12 guest, 2 vCPU, sosreport; intr line shortened):
 *   cpu  756 0 1382 8571 7 0 312 0 0 0
 *   cpu0 460 0 732 4186 2 0 178 0 0 0
 *   cpu1 296 0 649 4385 4 0 133 0 0 0
 *   intr 15978 95 9 0 0 744 …
 *   btime 1795329596
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, parseUInt, prov, provenanceSchema } from "./sys-util.js";

export const schema = z.object({
  btime: z.number().int().nullable(),
  /** btime as an ISO instant. */
  bootTime: z.string().nullable(),
  /** Number of `cpuN` lines (online CPUs). */
  cpuCount: z.number().int(),
  provenance: provenanceSchema.nullable(),
});
export type ProcStat = z.infer<typeof schema>;

export const create: ParserFactory<ProcStat> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  let btime: number | null = null;
  let provenance: ProcStat["provenance"] = null;
  let cpuCount = 0;
  return {
    push(line, lineNo) {
      // The intr line is legitimately long (thousands of IRQ counters): look only at prefixes.
      if (line.startsWith("cpu")) {
        const c = line.charCodeAt(3);
        if (c >= 48 && c <= 57) cpuCount++;
        return;
      }
      if (line.startsWith("btime")) {
        const v = parseUInt(line.slice(5).trim());
        if (v === null) {
          warnings.add(lineNo, `line ${lineNo}: btime without a number (truncated?)`);
          return;
        }
        btime = v;
        provenance = prov(ctx, lineNo);
        return;
      }
      if (line.length < 4096 && /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(line)) {
        warnings.add(lineNo, `line ${lineNo} skipped: binary or control characters`);
      }
    },
    end() {
      const bootTime = btime === null ? null : new Date(btime * 1000).toISOString();
      if (btime === null) warnings.add(undefined, "no btime line");
      return { value: { btime, bootTime, cpuCount, provenance }, warnings: warnings.done() };
    },
  };
};
