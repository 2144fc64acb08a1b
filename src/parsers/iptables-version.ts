/**
 * `iptables -V` / `ip6tables -V` / `iptables-save -V` output: the userspace version and, from
 * iptables 1.8.0 on, the backend in parentheses (`legacy` = x_tables, `nf_tables` = iptables-nft).
 *
 * Real samples (this lab, Debian 12):
 *   iptables v1.8.9 (nf_tables)        (iptables -V, iptables-nft -V)
 *   iptables v1.8.9 (legacy)           (iptables-legacy -V)
 * Older: `iptables v1.6.1` (no suffix before 1.8.0: legacy is the only backend, except the
 * experimental iptables-compat of 1.6, which printed `(nf_tables)`).
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const toolSchema = z.object({
  tool: z.string(),
  version: z.string(),
  backend: z.enum(["nf_tables", "legacy", "unknown"]),
  /** How the backend is known: printed suffix, implied by a version before 1.8.0, or not at all. */
  backendSource: z.enum(["suffix", "version-before-1.8", "none"]),
  provenance: provenanceSchema,
});

export const schema = z.object({
  tools: z.array(toolSchema),
  /** Lines that look like a failure to run the tool (`command not found`). */
  failures: z.array(z.object({ message: z.string(), provenance: provenanceSchema })),
});
export type IptablesVersion = z.infer<typeof toolSchema>;
export type IptablesVersionFacts = z.infer<typeof schema>;

const LINE = /^([a-z0-9][a-z0-9-]{0,40}) v(\d{1,3}\.\d{1,3}(?:\.\d{1,3})?)(?: \(([a-z_]{1,20})\))?$/;

function before18(version: string): boolean {
  const [a, b] = version.split(".").map(Number);
  return (a ?? 0) < 1 || ((a ?? 0) === 1 && (b ?? 0) < 8);
}

export function parseIptablesVersion(text: string): Omit<IptablesVersion, "provenance"> | null {
  const m = LINE.exec(text.trim());
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const suffix = m[3];
  if (suffix === "nf_tables" || suffix === "legacy") return { tool: m[1], version: m[2], backend: suffix, backendSource: "suffix" };
  if (suffix === undefined && before18(m[2])) return { tool: m[1], version: m[2], backend: "legacy", backendSource: "version-before-1.8" };
  return { tool: m[1], version: m[2], backend: "unknown", backendSource: "none" };
}

export const create: ParserFactory<IptablesVersionFacts> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const tools: IptablesVersion[] = [];
  const failures: IptablesVersionFacts["failures"] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      const p = parseIptablesVersion(text);
      if (p !== null) {
        if (p.backendSource === "none") warnings.add(lineNo, `line ${lineNo}: backend not printed by ${p.tool} v${p.version}`);
        if (tools.length < 100) tools.push({ ...p, provenance: prov(ctx, lineNo) });
        return;
      }
      if (text.includes("not found") || text.includes("No such file") || text.includes("Permission denied")) {
        failures.push({ message: text, provenance: prov(ctx, lineNo) });
        return;
      }
      warnings.add(lineNo, `line ${lineNo}: not a version line (truncated?)`);
    },
    end() {
      return { value: { tools, failures }, warnings: warnings.done() };
    },
  };
};
