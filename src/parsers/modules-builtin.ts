/**
 * /lib/modules/<release>/modules.builtin: modules compiled into the kernel image, one path per line.
 * A module listed here is never in lsmod yet its features are present (sysctls appear, rules work).
 *
 * Sample (format of Debian 12's linux-image-6.1 package):
 *   kernel/net/netfilter/x_tables.ko
 *   kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, normaliseModuleName, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_ENTRIES = 50_000;

export const schema = z.object({
  modules: z.array(z.object({ name: z.string(), path: z.string(), provenance: provenanceSchema })),
});
export type BuiltinModules = z.infer<typeof schema>;

/** `kernel/net/netfilter/nf_conntrack.ko` → `nf_conntrack`; null when the line is not a .ko path. */
export function moduleNameFromPath(path: string): string | null {
  const base = path.slice(path.lastIndexOf("/") + 1);
  let stem: string | null = null;
  for (const ext of [".ko.zst", ".ko.xz", ".ko.gz", ".ko"]) {
    if (base.endsWith(ext)) {
      stem = base.slice(0, -ext.length);
      break;
    }
  }
  if (stem === null || stem === "") return null;
  return normaliseModuleName(stem);
}

export const create: ParserFactory<BuiltinModules> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const modules: BuiltinModules["modules"] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "" || text.startsWith("#")) return;
      const name = moduleNameFromPath(text);
      if (name === null) {
        warnings.add(lineNo, `line ${lineNo}: not a module path (truncated?)`);
        return;
      }
      if (modules.length >= MAX_ENTRIES) {
        warnings.add(lineNo, `more than ${MAX_ENTRIES} entries: rest ignored`);
        return;
      }
      modules.push({ name, path: text, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { modules }, warnings: warnings.done() };
    },
  };
};
