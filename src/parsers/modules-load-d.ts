/**
 * /etc/modules-load.d/*.conf, /usr/lib/modules-load.d/*.conf and Debian's /etc/modules: one module
 * name per line, loaded at boot by systemd-modules-load; `#` and `;` start comments.
 *
 * Sample:
 *   # Load conntrack early so the sysctls in /etc/sysctl.d apply
 *   nf_conntrack
 *   br_netfilter
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, fields, normaliseModuleName, prov, provenanceSchema, skipLine } from "./sys-util.js";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ENTRIES = 10_000;

export const schema = z.object({
  modules: z.array(
    z.object({
      name: z.string(),
      rawName: z.string(),
      /** Debian's /etc/modules allows module parameters after the name. */
      args: z.array(z.string()),
      provenance: provenanceSchema,
    }),
  ),
});
export type ModulesLoadD = z.infer<typeof schema>;

export const create: ParserFactory<ModulesLoadD> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const modules: ModulesLoadD["modules"] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "" || text.startsWith("#") || text.startsWith(";")) return;
      const [raw, ...args] = fields(text);
      if (raw === undefined || !NAME.test(raw)) {
        warnings.add(lineNo, `line ${lineNo}: not a module name`);
        return;
      }
      if (modules.length >= MAX_ENTRIES) return;
      modules.push({ name: normaliseModuleName(raw), rawName: raw, args, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { modules }, warnings: warnings.done() };
    },
  };
};
