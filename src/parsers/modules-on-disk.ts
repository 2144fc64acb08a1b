/**
 * A list of kernel module files on disk (e.g. `find /lib/modules -name '*.ko*'`), giving which modules
 * could be loaded and for which kernel release. Compression suffixes .xz/.zst/.gz are recognised.
 *
 * Also reads modules.dep (`<path>: <deps>`), whose paths are relative to the release directory
 * named in the file's own path (sos copies `usr/lib/modules/<release>/modules.dep`).
 *
 * Real sample (usr/lib/modules/6.1.0-56-amd64/modules.dep from a Debian 12 sosreport):
 *   kernel/net/sched/act_connmark.ko: kernel/net/netfilter/nf_conntrack.ko kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko
 *   kernel/arch/x86/events/amd/power.ko:
 * A `find` listing looks like: /usr/lib/modules/6.8.0-45-generic/kernel/net/netfilter/xt_recent.ko.zst
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";
import { moduleNameFromPath } from "./modules-builtin.js";

const MAX_ENTRIES = 100_000;

export const schema = z.object({
  modules: z.array(
    z.object({
      name: z.string(),
      path: z.string(),
      compression: z.enum(["none", "xz", "zst", "gz"]),
      /** The release directory under .../modules/, when the path has one. */
      kernelRelease: z.string().nullable(),
      provenance: provenanceSchema,
    }),
  ),
  /** Distinct kernel releases seen, in order of first appearance. */
  kernelReleases: z.array(z.string()),
});
export type ModulesOnDisk = z.infer<typeof schema>;

function compressionOf(path: string): "none" | "xz" | "zst" | "gz" {
  if (path.endsWith(".xz")) return "xz";
  if (path.endsWith(".zst")) return "zst";
  if (path.endsWith(".gz")) return "gz";
  return "none";
}

/** `/lib/modules/6.1.0-56-amd64/kernel/...` → `6.1.0-56-amd64`. */
export function releaseFromPath(path: string): string | null {
  const marker = "modules/";
  const at = path.indexOf(marker);
  if (at < 0 || (at > 0 && path[at - 1] !== "/")) return null;
  const rest = path.slice(at + marker.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const rel = rest.slice(0, slash);
  return /^\d+\.\d+/.test(rel) ? rel : null;
}

export const create: ParserFactory<ModulesOnDisk> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const modules: ModulesOnDisk["modules"] = [];
  const releases = new Set<string>();
  const releaseOfFile = releaseFromPath(ctx.path.startsWith("/") ? ctx.path : `/${ctx.path}`);
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "" || text.startsWith("#")) return;
      const colon = text.indexOf(":");
      const path = colon >= 0 ? text.slice(0, colon) : text;
      const name = moduleNameFromPath(path);
      if (name === null) return; // directories and other files in a find listing
      if (modules.length >= MAX_ENTRIES) {
        warnings.add(lineNo, `more than ${MAX_ENTRIES} module files: rest ignored`);
        return;
      }
      const kernelRelease = releaseFromPath(path) ?? releaseOfFile;
      if (kernelRelease !== null) releases.add(kernelRelease);
      modules.push({ name, path, compression: compressionOf(path), kernelRelease, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { modules, kernelReleases: [...releases] }, warnings: warnings.done() };
    },
  };
};
