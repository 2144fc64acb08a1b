/**
 * Output of `sysctl -a` (sos: `sos_commands/kernel/sysctl_-a`, the only place sos keeps
 * `net.netfilter.*`), including its error lines on stderr when they were captured with it.
 *
 * Real sample (Debian 12 guest, kernel 6.1, sosreport; multi-value sysctls are tab separated):
 *   fs.file-nr = 192	0	199745
 *   net.netfilter.nf_conntrack_count = 128
 *   net.netfilter.nf_conntrack_max = 128
 *   net.nf_conntrack_max = 128
 * Real error lines (procps-ng 4.0.2, kernel 6.18):
 *   sysctl: permission denied on key 'kernel.cad_pid'
 *   sysctl: cannot stat /proc/sys/net/ipv4/netfilter/ip_conntrack_max: No such file or directory
 * Old kernels (CONFIG_NF_CONNTRACK_PROC_COMPAT) name conntrack settings
 * `net.ipv4.netfilter.ip_conntrack_*`: they are stored under the modern `net.netfilter.nf_conntrack_*`
 * key with the original name kept in `originalKey`.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, parseUInt, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_ENTRIES = 500_000;

export const entrySchema = z.object({
  /** Canonical dotted key (modern name for old ip_conntrack compat names). */
  key: z.string(),
  /** The key as written, when it differs from `key` (old compat name or `/` separators). */
  originalKey: z.string().nullable(),
  /** The value as printed (tabs kept). */
  value: z.string(),
  /** The value split on tabs/spaces (`net.ipv4.tcp_rmem = 4096	131072	6291456` → 3 values). */
  values: z.array(z.string()),
  /** The value as a number when it is a single integer. */
  number: z.number().nullable(),
  provenance: provenanceSchema,
});

export const errorSchema = z.object({
  kind: z.enum(["permission-denied", "missing", "unknown-key", "read-error", "set-error", "other"]),
  /** Dotted key the error is about, when the line names one. */
  key: z.string().nullable(),
  /** Modern key when `key` is an old compat name. */
  mappedKey: z.string().nullable(),
  message: z.string(),
  provenance: provenanceSchema,
});

export const schema = z.object({
  entries: z.record(z.string(), entrySchema),
  errors: z.array(errorSchema),
});

export type SysctlEntry = z.infer<typeof entrySchema>;
export type SysctlError = z.infer<typeof errorSchema>;
export type SysctlFacts = z.infer<typeof schema>;

const TOP_LEVELS = ["abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm"];

/**
 * Canonical dotted form of a sysctl key. Accepts `/proc/sys/net/ipv4/ip_forward`,
 * `net/ipv4/conf/eth0.100/rp_filter` (slash form: `.` inside a component becomes `/`, as procps
 * and systemd-sysctl print VLAN interfaces) and plain dotted keys (returned unchanged).
 */
export function normaliseSysctlKey(raw: string): string {
  let key = raw.trim();
  if (key.startsWith("/proc/sys/")) key = key.slice("/proc/sys/".length);
  const firstSlash = key.indexOf("/");
  const firstDot = key.indexOf(".");
  if (firstSlash > 0 && (firstDot < 0 || firstSlash < firstDot)) {
    let out = "";
    for (const ch of key) out += ch === "/" ? "." : ch === "." ? "/" : ch;
    key = out;
  }
  return key;
}

/** Old compat names (`net.ipv4.netfilter.ip_conntrack_*`) mapped to `net.netfilter.nf_conntrack_*`; null when not old. */
export function modernConntrackKey(key: string): string | null {
  const prefix = "net.ipv4.netfilter.ip_conntrack_";
  if (!key.startsWith(prefix)) return null;
  return `net.netfilter.nf_conntrack_${key.slice(prefix.length)}`;
}

function splitValues(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(/[\t ]/)) if (part !== "") out.push(part);
  return out;
}

function parseNumber(v: string): number | null {
  if (v.startsWith("-")) {
    const n = parseUInt(v.slice(1));
    return n === null ? null : -n;
  }
  return parseUInt(v);
}

function classifyError(text: string): Omit<SysctlError, "provenance" | "mappedKey"> {
  const quoted = (s: string): string | null => {
    const a = s.indexOf("'") >= 0 ? s.indexOf("'") : s.indexOf('"');
    if (a < 0) return null;
    const q = s[a];
    const b = s.indexOf(q ?? "'", a + 1);
    return b > a ? s.slice(a + 1, b) : null;
  };
  if (text.startsWith("sysctl: permission denied on key")) {
    return { kind: "permission-denied", key: quoted(text), message: text };
  }
  if (text.startsWith("sysctl: cannot stat ")) {
    const rest = text.slice("sysctl: cannot stat ".length);
    const colon = rest.indexOf(": ");
    const path = colon >= 0 ? rest.slice(0, colon) : rest;
    return { kind: "missing", key: path.startsWith("/proc/sys/") ? normaliseSysctlKey(path) : null, message: text };
  }
  if (text.startsWith("sysctl: reading key")) return { kind: "read-error", key: quoted(text), message: text };
  if (text.startsWith("sysctl: setting key")) return { kind: "set-error", key: quoted(text), message: text };
  // procps 3.2.x: error: "net.ipv4.netfilter.ip_conntrack_max" is an unknown key
  if (text.startsWith("error: ") && text.endsWith("is an unknown key")) {
    return { kind: "unknown-key", key: quoted(text), message: text };
  }
  // procps 3.2.x: error: "Operation not permitted" setting key "net.netfilter.nf_conntrack_max"
  if (text.startsWith("error: ") && text.includes("setting key")) {
    const at = text.indexOf("setting key");
    return { kind: "set-error", key: quoted(text.slice(at)), message: text };
  }
  if (text.startsWith("error: ") && text.includes("permission denied")) {
    return { kind: "permission-denied", key: quoted(text), message: text };
  }
  return { kind: "other", key: null, message: text };
}

export const create: ParserFactory<SysctlFacts> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const entries = new Map<string, SysctlEntry>();
  const errors: SysctlError[] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      if (line.trim() === "") return;
      if (line.startsWith("sysctl: ") || line.startsWith("error: ")) {
        const e = classifyError(line.trim());
        const mappedKey = e.key === null ? null : modernConntrackKey(e.key);
        if (errors.length < 10_000) errors.push({ ...e, mappedKey, provenance: prov(ctx, lineNo) });
        return;
      }
      const eq = line.indexOf("=");
      if (eq <= 0) {
        warnings.add(lineNo, `line ${lineNo}: no "=" (truncated or not sysctl output)`);
        return;
      }
      const rawKey = line.slice(0, eq).trim();
      // value: strip exactly the separator space(s) and the trailing CR/space, keep inner tabs
      let value = line.slice(eq + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      value = value.trimEnd();
      if (rawKey === "" || rawKey.includes(" ")) {
        warnings.add(lineNo, `line ${lineNo}: not a sysctl key`);
        return;
      }
      const slashKey = normaliseSysctlKey(rawKey);
      const dot = slashKey.indexOf(".");
      const firstComponent = dot < 0 ? slashKey : slashKey.slice(0, dot);
      if (!TOP_LEVELS.includes(firstComponent)) {
        warnings.add(lineNo, `line ${lineNo}: unknown top-level sysctl "${firstComponent}"`);
      }
      const modern = modernConntrackKey(slashKey);
      const key = modern ?? slashKey;
      const originalKey = key === rawKey ? null : rawKey;
      const seen = entries.get(key);
      if (seen !== undefined) {
        // The modern name wins over the old compat alias whatever the order; a true duplicate: last wins.
        if (modern !== null) return;
        const seenWasOld = seen.originalKey !== null && modernConntrackKey(seen.originalKey) !== null;
        if (!seenWasOld) warnings.add(lineNo, `line ${lineNo}: ${key} printed twice, last value kept`);
      } else if (entries.size >= MAX_ENTRIES) {
        warnings.add(lineNo, `more than ${MAX_ENTRIES} sysctls: rest ignored`);
        return;
      }
      const values = splitValues(value);
      const number = values.length === 1 && values[0] !== undefined ? parseNumber(values[0]) : null;
      entries.set(key, { key, originalKey, value, values, number, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { entries: Object.fromEntries(entries), errors }, warnings: warnings.done() };
    },
  };
};
