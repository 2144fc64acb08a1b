/**
 * Reads a source that holds one integer: `conntrack -C`, /proc/sys/net/netfilter/nf_conntrack_count,
 * nf_conntrack_max, nf_conntrack_buckets, nf_conntrack_expect_max, /proc/sys/net/nf_conntrack_max
 * and /sys/module/nf_conntrack/parameters/hashsize.
 *
 * Real sample (`ip netns exec ct-srv conntrack -C`, conntrack-tools 1.4.7, kernel 6.18):
 *
 *   25
 *
 * conntrack-tools banner lines (`conntrack v1.4.7 (conntrack-tools): 42 flow entries have been shown.`)
 * merged from stderr are ignored; anything else raises a warning.
 */
import { z } from "zod";
import type { ParseWarning, ParserFactory } from "./types.js";
import { isDecimal, provenanceAt, provenanceSchema, readToolMessage, skippedLineWarning, stripCr } from "./conntrack/common.js";

export const schema = z.object({
  /** The integer, or null when the source held none. */
  value: z.number().int().nonnegative().nullable(),
  provenance: provenanceSchema.nullable(),
});
export type ConntrackCount = z.infer<typeof schema>;

export const create: ParserFactory<ConntrackCount> = (ctx) => {
  const warnings: ParseWarning[] = [];
  let value: number | null = null;
  let provenance: ConntrackCount["provenance"] = null;
  return {
    push(raw, lineNo) {
      const line = stripCr(raw).trim();
      if (line === "") return;
      if (readToolMessage(line, ctx.path, lineNo) !== null) return;
      if (isDecimal(line)) {
        if (value === null) {
          value = Number(line);
          provenance = provenanceAt(ctx.path, lineNo);
        } else {
          warnings.push({ path: ctx.path, line: lineNo, message: `second integer ${line} ignored (first one kept: ${value})` });
        }
        return;
      }
      warnings.push(skippedLineWarning(ctx.path, lineNo, line, "a single integer"));
    },
    end() {
      if (value === null) warnings.push({ path: ctx.path, message: "no integer found" });
      return { value: { value, provenance }, warnings };
    },
  };
};
