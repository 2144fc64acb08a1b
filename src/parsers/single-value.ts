/**
 * One value per file: /proc/sys/net/netfilter/<name>, /sys/module/nf_conntrack/parameters/<name>,
 * boot_id, the collector's sample epochs. The file's last path segment names the value.
 * Sample (/proc/sys/net/netfilter/nf_conntrack_max):
 *   262144
 */
import { z } from "zod";
import type { ParserFactory, ParseWarning } from "./types.js";

export const schema = z.object({
  name: z.string(),
  /** The first non-empty line, trimmed; null when the file is empty. */
  raw: z.string().nullable(),
  /** The value as a number when it is one integer. */
  number: z.number().nullable(),
  provenance: z.object({ path: z.string(), line: z.number() }),
});
export type SingleValue = z.infer<typeof schema>;

export const create: ParserFactory<SingleValue> = (ctx) => {
  let raw: string | null = null;
  let line = 1;
  const warnings: ParseWarning[] = [];
  return {
    push(text, n) {
      if (raw !== null || text.trim() === "") return;
      raw = text.trim().slice(0, 4096);
      line = n;
    },
    end() {
      const num = raw !== null && /^-?\d{1,15}$/.test(raw) ? Number(raw) : null;
      if (raw === null) warnings.push({ path: ctx.path, message: "empty file" });
      const name = ctx.path.split("/").pop() ?? ctx.path;
      return { value: { name, raw, number: num, provenance: { path: ctx.path, line } }, warnings };
    },
  };
};
