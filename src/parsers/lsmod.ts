/**
 * Loaded kernel modules: the output of `lsmod` and the file /proc/modules (sos: `lsmod`,
 * `sos_commands/kernel/lsmod`, `proc/modules`). Both formats are recognised line by line.
 *
 * Real sample (Debian 12 guest, kernel 6.1, from a sosreport):
 *   Module                  Size  Used by
 *   nf_conntrack          188416  4 xt_conntrack,nf_nat,nf_conntrack_netlink,xt_MASQUERADE
 *   nf_conntrack 188416 4 nf_conntrack_netlink,xt_MASQUERADE,nf_nat,xt_conntrack, Live 0xffffffffc0539000
 * On a kernel without module support lsmod fails (real, kernel 6.18 built-in netfilter):
 *   libkmod: ERROR ../libkmod/libkmod-module.c:1725 kmod_module_new_from_loaded: could not open /proc/modules: No such file or directory
 *   Error: could not get list of modules: No such file or directory
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, fields, normaliseModuleName, parseUInt, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_MODULES = 20_000;

export const moduleSchema = z.object({
  name: z.string(),
  size: z.number().int().nullable(),
  /** Reference count; null when the kernel prints `-` (no module unloading support). */
  useCount: z.number().int().nullable(),
  /** Modules that use this one (holders), `[permanent]` removed. */
  users: z.array(z.string()),
  permanent: z.boolean(),
  /** /proc/modules only. */
  state: z.enum(["Live", "Loading", "Unloading"]).nullable(),
  address: z.string().nullable(),
  /** /proc/modules taint flags such as `OE` from `(OE)`. */
  taint: z.string().nullable(),
  provenance: provenanceSchema,
});

export const schema = z.object({
  format: z.enum(["lsmod", "proc-modules", "unknown"]),
  modules: z.array(moduleSchema),
  /** lsmod could not list modules (no /proc/modules: kernel built without modules, or a container). */
  failures: z.array(z.object({ message: z.string(), provenance: provenanceSchema })),
});

export type LoadedModule = z.infer<typeof moduleSchema>;
export type LsmodFacts = z.infer<typeof schema>;

function splitUsers(text: string): { users: string[]; permanent: boolean } {
  let permanent = false;
  const users: string[] = [];
  for (const u of text.split(",")) {
    const t = u.trim();
    if (t === "" || t === "-") continue;
    if (t === "[permanent]") {
      permanent = true;
      continue;
    }
    users.push(normaliseModuleName(t));
  }
  return { users, permanent };
}

const MODULE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const create: ParserFactory<LsmodFacts> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const modules: LoadedModule[] = [];
  const failures: LsmodFacts["failures"] = [];
  let format: LsmodFacts["format"] = "unknown";
  let lastLineNo = 0;
  return {
    push(line, lineNo) {
      lastLineNo = lineNo;
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "") return;
      if (text.startsWith("Module ") && text.includes("Used by")) {
        format = "lsmod";
        return;
      }
      if (text.startsWith("libkmod:") || text.startsWith("Error:") || text.startsWith("lsmod:") || text.includes("/proc/modules")) {
        failures.push({ message: text, provenance: prov(ctx, lineNo) });
        return;
      }
      const f = fields(text);
      const name = f[0] ?? "";
      if (!MODULE_NAME.test(name) || f.length < 2) {
        warnings.add(lineNo, `line ${lineNo}: not a module line`);
        return;
      }
      if (modules.length >= MAX_MODULES) {
        warnings.add(lineNo, `more than ${MAX_MODULES} modules: rest ignored`);
        return;
      }
      const size = parseUInt(f[1] ?? "");
      const useCount = f[2] === undefined || f[2] === "-" ? null : parseUInt(f[2]);
      // /proc/modules: name size refcnt deps state address [taint]
      const isProc = f.length >= 5 && (f[4] === "Live" || f[4] === "Loading" || f[4] === "Unloading");
      if (isProc) {
        if (format === "unknown") format = "proc-modules";
        const { users, permanent } = splitUsers(f[3] ?? "-");
        const taintField = f[6];
        const taint = taintField !== undefined && taintField.startsWith("(") && taintField.endsWith(")") ? taintField.slice(1, -1) : null;
        modules.push({
          name: normaliseModuleName(name),
          size,
          useCount,
          users,
          permanent,
          state: f[4] as "Live" | "Loading" | "Unloading",
          address: f[5] ?? null,
          taint,
          provenance: prov(ctx, lineNo),
        });
        return;
      }
      if (format === "proc-modules") {
        warnings.add(lineNo, `line ${lineNo}: incomplete /proc/modules line for ${name} (truncated?)`);
      } else if (size === null) {
        warnings.add(lineNo, `line ${lineNo}: module ${name} has no numeric size (truncated line?)`);
      }
      if (f.length > 4) warnings.add(lineNo, `line ${lineNo}: unexpected extra columns`);
      const { users, permanent } = splitUsers(f[3] ?? "");
      modules.push({
        name: normaliseModuleName(name),
        size,
        useCount,
        users,
        permanent,
        state: null,
        address: null,
        taint: null,
        provenance: prov(ctx, lineNo),
      });
    },
    end() {
      if (lastLineNo === 0) warnings.add(undefined, "empty input: no module list");
      return { value: { format, modules, failures }, warnings: warnings.done() };
    },
  };
};
