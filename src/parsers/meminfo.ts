/**
 * /proc/meminfo (sos: `proc/meminfo`): memory totals in kB, used to size conntrack/iptables memory
 * and to spot slab or vmalloc pressure.
 *
 * Real sample (Debian 12 guest, 2 GB, kernel 6.1, sosreport):
 *   MemTotal:        2012116 kB
 *   MemAvailable:    1852784 kB
 *   Slab:              22536 kB
 *   SUnreclaim:         9780 kB
 *   VmallocUsed:        8312 kB
 *   HugePages_Total:       0
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, parseUInt, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const fieldSchema = z.object({
  value: z.number(),
  /** "kB" for sizes; "" for counts such as HugePages_Total. */
  unit: z.enum(["kB", ""]),
  provenance: provenanceSchema,
});

export const schema = z.object({
  fields: z.record(z.string(), fieldSchema),
  /** Shortcuts (kB), null when absent. MemAvailable is absent before kernel 3.14. */
  memTotalKb: z.number().nullable(),
  memAvailableKb: z.number().nullable(),
  memFreeKb: z.number().nullable(),
  slabKb: z.number().nullable(),
  sUnreclaimKb: z.number().nullable(),
  vmallocUsedKb: z.number().nullable(),
});
export type Meminfo = z.infer<typeof schema>;

const KEY = /^[A-Za-z0-9_()]{1,40}$/;

export const create: ParserFactory<Meminfo> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const map = new Map<string, z.infer<typeof fieldSchema>>();
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      const colon = text.indexOf(":");
      const key = colon > 0 ? text.slice(0, colon) : "";
      if (!KEY.test(key)) {
        warnings.add(lineNo, `line ${lineNo}: not a meminfo line`);
        return;
      }
      let rest = text.slice(colon + 1).trim();
      let unit: "kB" | "" = "";
      if (rest.endsWith(" kB")) {
        unit = "kB";
        rest = rest.slice(0, -3).trim();
      }
      const value = parseUInt(rest);
      if (value === null) {
        warnings.add(lineNo, `line ${lineNo}: ${key} has no numeric value (truncated?)`);
        return;
      }
      if (map.size < 1000) map.set(key, { value, unit, provenance: prov(ctx, lineNo) });
    },
    end() {
      const kb = (k: string): number | null => map.get(k)?.value ?? null;
      return {
        value: {
          fields: Object.fromEntries(map),
          memTotalKb: kb("MemTotal"),
          memAvailableKb: kb("MemAvailable"),
          memFreeKb: kb("MemFree"),
          slabKb: kb("Slab"),
          sUnreclaimKb: kb("SUnreclaim"),
          vmallocUsedKb: kb("VmallocUsed"),
        },
        warnings: warnings.done(),
      };
    },
  };
};
