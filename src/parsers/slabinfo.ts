/**
 * /proc/slabinfo (sos: `proc/slabinfo`): kernel object caches. The conntrack caches give the
 * number of tracked connections allocated and their memory: `nf_conntrack` (2.6.24, 4.7+),
 * `nf_conntrack_<netns pointer hex>` (3.x–4.5, one per netns), `nf_conntrack_<cookie>` (4.6),
 * `nf_conntrack_expect` (expectations).
 *
 * Real sample (Debian 12 guest, kernel 6.1, conntrack table full at 128; sosreport):
 *   slabinfo - version: 2.1
 *   # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
 *   nf_conntrack         128    128    256   16    1 : tunables    0    0    0 : slabdata      8      8      0
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, fields, parseUInt, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_CACHES = 50_000;

export const cacheSchema = z.object({
  name: z.string(),
  activeObjs: z.number(),
  numObjs: z.number(),
  objSize: z.number(),
  objPerSlab: z.number().nullable(),
  pagesPerSlab: z.number().nullable(),
  activeSlabs: z.number().nullable(),
  numSlabs: z.number().nullable(),
  provenance: provenanceSchema,
});

export const conntrackCacheSchema = cacheSchema.extend({
  kind: z.enum(["conntrack", "conntrack-netns", "conntrack-cookie", "conntrack-expect"]),
  /** The hex netns pointer (3.x–4.5) or decimal cookie (4.6) in the cache name. */
  netnsId: z.string().nullable(),
});

export const schema = z.object({
  /** `2.1` from the header; null when the header is missing (a pasted excerpt). */
  version: z.string().nullable(),
  caches: z.array(cacheSchema),
  conntrack: z.array(conntrackCacheSchema),
  /** Totals over the conntrack caches (not expectations): objects and bytes (num_objs × objsize). */
  conntrackTotals: z.object({ activeObjs: z.number(), numObjs: z.number(), bytes: z.number() }),
});
export type Slabinfo = z.infer<typeof schema>;
export type SlabCache = z.infer<typeof cacheSchema>;
export type ConntrackCache = z.infer<typeof conntrackCacheSchema>;

const HEX_SUFFIX = /^[0-9a-f]{8,16}$/;
const DEC_SUFFIX = /^\d{1,20}$/;

export function conntrackKind(name: string): { kind: ConntrackCache["kind"]; netnsId: string | null } | null {
  // `ip_conntrack` is the ≤ 2.6.2x module's cache (kernel-facts §1.1), the same kind of object.
  if (name === "nf_conntrack" || name === "ip_conntrack") return { kind: "conntrack", netnsId: null };
  if (name === "nf_conntrack_expect" || name === "ip_conntrack_expect") return { kind: "conntrack-expect", netnsId: null };
  if (!name.startsWith("nf_conntrack_")) return null;
  const suffix = name.slice("nf_conntrack_".length);
  // A decimal cookie can also look like hex digits; the pointer form is 16 hex digits starting with ffff on 64-bit.
  if (HEX_SUFFIX.test(suffix) && (suffix.length === 16 || /[a-f]/.test(suffix))) return { kind: "conntrack-netns", netnsId: suffix };
  if (DEC_SUFFIX.test(suffix)) return { kind: "conntrack-cookie", netnsId: suffix };
  return null;
}

export const create: ParserFactory<Slabinfo> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const caches: SlabCache[] = [];
  const conntrack: ConntrackCache[] = [];
  let version: string | null = null;
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      if (text.startsWith("slabinfo - version:")) {
        version = text.slice("slabinfo - version:".length).trim();
        return;
      }
      if (text.startsWith("#")) return;
      const f = fields(text);
      const name = f[0] ?? "";
      const activeObjs = parseUInt(f[1] ?? "");
      const numObjs = parseUInt(f[2] ?? "");
      const objSize = parseUInt(f[3] ?? "");
      if (activeObjs === null || numObjs === null || objSize === null) {
        warnings.add(lineNo, `line ${lineNo}: not a slab cache row (truncated?)`);
        return;
      }
      const colonAt = f.indexOf("slabdata");
      const cache: SlabCache = {
        name,
        activeObjs,
        numObjs,
        objSize,
        objPerSlab: parseUInt(f[4] ?? ""),
        pagesPerSlab: parseUInt(f[5] ?? ""),
        activeSlabs: colonAt > 0 ? parseUInt(f[colonAt + 1] ?? "") : null,
        numSlabs: colonAt > 0 ? parseUInt(f[colonAt + 2] ?? "") : null,
        provenance: prov(ctx, lineNo),
      };
      if (version !== null && version.startsWith("2.") && colonAt < 0) {
        warnings.add(lineNo, `line ${lineNo}: ${name} row has no slabdata part (truncated?)`);
      }
      if (caches.length < MAX_CACHES) caches.push(cache);
      const ck = conntrackKind(name);
      if (ck !== null) conntrack.push({ ...cache, ...ck });
    },
    end() {
      const totals = { activeObjs: 0, numObjs: 0, bytes: 0 };
      for (const c of conntrack) {
        if (c.kind === "conntrack-expect") continue;
        totals.activeObjs += c.activeObjs;
        totals.numObjs += c.numObjs;
        totals.bytes += c.numObjs * c.objSize;
      }
      return { value: { version, caches, conntrack, conntrackTotals: totals }, warnings: warnings.done() };
    },
  };
};
