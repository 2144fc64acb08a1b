/**
 * Kernel build configuration: /boot/config-<release> (sos: `boot/config-*`) or /proc/config.gz text.
 * Every option is kept (a config is ~10,000 lines): analyzers ask e.g. CONFIG_NF_CONNTRACK =y/m.
 *
 * Sample (format of Debian 12's /boot/config-6.1.0-56-amd64):
 *   # Linux/x86 6.1.192 Kernel Configuration
 *   CONFIG_NF_CONNTRACK=m
 *   CONFIG_NF_CONNTRACK_PROCFS=y
 *   # CONFIG_NF_CONNTRACK_PROC_COMPAT is not set
 *   CONFIG_LOCALVERSION=""
 *   CONFIG_NF_CT_PROTO_DCCP=y
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_OPTIONS = 100_000;

export const optionSchema = z.object({
  /** `y`, `m`, `n` (not set), or the literal value (quotes removed for strings). */
  value: z.string(),
  kind: z.enum(["builtin", "module", "not-set", "string", "number", "other"]),
  provenance: provenanceSchema,
});

export const schema = z.object({
  /** `Linux/x86 6.1.192` from the header comment, when present. */
  header: z.string().nullable(),
  options: z.record(z.string(), optionSchema),
});
export type KernelConfig = z.infer<typeof schema>;
export type KernelConfigOption = z.infer<typeof optionSchema>;

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;
const HEADER = /^# (Linux\/\S+ \S+) Kernel Configuration$/;

function classify(raw: string): { value: string; kind: KernelConfigOption["kind"] } | null {
  if (raw === "y") return { value: "y", kind: "builtin" };
  if (raw === "m") return { value: "m", kind: "module" };
  if (raw === "n") return { value: "n", kind: "not-set" };
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) return null;
    return { value: raw.slice(1, -1).replaceAll('\\"', '"').replaceAll("\\\\", "\\"), kind: "string" };
  }
  if (/^-?\d+$/.test(raw) || /^0x[0-9a-fA-F]+$/.test(raw)) return { value: raw, kind: "number" };
  return { value: raw, kind: "other" };
}

/** True when the option is compiled in or available as a module. */
export function isEnabled(config: KernelConfig, name: string): boolean {
  const o = config.options[name];
  return o !== undefined && (o.kind === "builtin" || o.kind === "module");
}

export const create: ParserFactory<KernelConfig> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const options = new Map<string, KernelConfigOption>();
  let header: string | null = null;
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "") return;
      if (text.startsWith("#")) {
        const ns = NOT_SET.exec(text);
        if (ns?.[1] !== undefined) {
          options.set(ns[1], { value: "n", kind: "not-set", provenance: prov(ctx, lineNo) });
          return;
        }
        const h = header === null ? HEADER.exec(text) : null;
        if (h?.[1] !== undefined) header = h[1];
        return;
      }
      if (!text.startsWith("CONFIG_")) {
        warnings.add(lineNo, `line ${lineNo}: not a config line`);
        return;
      }
      const m = SET.exec(text);
      if (m?.[1] === undefined || m[2] === undefined) {
        warnings.add(lineNo, `line ${lineNo}: option without value (truncated?)`);
        return;
      }
      const c = classify(m[2]);
      if (c === null) {
        warnings.add(lineNo, `line ${lineNo}: unterminated string value for ${m[1]} (truncated?)`);
        return;
      }
      if (options.size >= MAX_OPTIONS && !options.has(m[1])) return;
      if (options.has(m[1])) warnings.add(lineNo, `line ${lineNo}: ${m[1]} set twice, last wins`);
      options.set(m[1], { ...c, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { header, options: Object.fromEntries(options) }, warnings: warnings.done() };
    },
  };
};
