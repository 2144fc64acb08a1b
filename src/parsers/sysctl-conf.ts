/**
 * sysctl configuration files: /etc/sysctl.conf and sysctl.d drop-ins (sos: `etc/sysctl.conf`,
 * `etc/sysctl.d/*`, `usr/lib/sysctl.d/*`), plus `effectiveSysctlConf()`, which resolves which file
 * sets each key at boot.
 *
 * Real sample (etc/sysctl.d/90-conntrack.conf and usr/lib/sysctl.d/99-protect-links.conf, Debian 12 sosreport):
 *   net.netfilter.nf_conntrack_max = 128
 *   net.netfilter.nf_conntrack_tcp_timeout_established = 86400
 *   # Debian kernels have both set to 1 (restricted)
 *   fs.protected_fifos = 1
 * Syntax (systemd sysctl.d(5), procps sysctl.conf(5)): `#` and `;` comments, `key = value` or
 * `key=value`, a leading `-` means "ignore errors when setting", `/` separators allowed, globs
 * (`net.ipv4.conf.*.rp_filter`) kept as written.
 *
 * Precedence chosen (documented): systemd-sysctl order.
 *  1. Directories, highest first: /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
 *     /usr/lib/sysctl.d, /lib/sysctl.d. Only `*.conf` files count. A file shadows every file with the
 *     same basename in a lower directory (an empty file masks, as does a /dev/null symlink).
 *  2. The surviving files are applied in lexical (byte) order of their basename; for a key set
 *     several times the last assignment wins.
 *  3. /etc/sysctl.conf is applied after all of them. This is what `sysctl --system` (procps, used by
 *     Debian's and RHEL's init scripts) does, and on systemd hosts Debian and RHEL ship
 *     /etc/sysctl.d/99-sysctl.conf → ../sysctl.conf, which sorts after nearly every drop-in.
 *  A file in no known directory (a loose paste) is treated as a drop-in of the lowest directory,
 *  except a file named `sysctl.conf`, treated as /etc/sysctl.conf.
 */
import { z } from "zod";
import type { ParserFactory, Provenance } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";
import { modernConntrackKey, normaliseSysctlKey } from "./sysctl.js";

export const confEntrySchema = z.object({
  /** Canonical dotted key (old ip_conntrack names mapped to net.netfilter.nf_conntrack_*). */
  key: z.string(),
  /** The key as written (without the `-` prefix). */
  rawKey: z.string(),
  value: z.string(),
  /** `-key = value`: failures to set are ignored. */
  ignoreErrors: z.boolean(),
  /** The key holds `*` or `?` (systemd ≥ 247 glob). */
  glob: z.boolean(),
  provenance: provenanceSchema,
});

export const schema = z.object({
  entries: z.array(confEntrySchema),
});
export type SysctlConfEntry = z.infer<typeof confEntrySchema>;
export type SysctlConf = z.infer<typeof schema>;

const MAX_ENTRIES = 50_000;

export const create: ParserFactory<SysctlConf> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const entries: SysctlConfEntry[] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      const text = line.trim();
      if (text === "" || text.startsWith("#") || text.startsWith(";")) return;
      const eq = text.indexOf("=");
      if (eq < 0) {
        warnings.add(lineNo, `line ${lineNo}: not an assignment (no "=")`);
        return;
      }
      let rawKey = text.slice(0, eq).trim();
      const value = text.slice(eq + 1).trim();
      let ignoreErrors = false;
      if (rawKey.startsWith("-")) {
        ignoreErrors = true;
        rawKey = rawKey.slice(1).trim();
      }
      if (rawKey === "" || rawKey.includes(" ") || rawKey.includes("\t")) {
        warnings.add(lineNo, `line ${lineNo}: invalid key`);
        return;
      }
      if (entries.length >= MAX_ENTRIES) {
        warnings.add(lineNo, `more than ${MAX_ENTRIES} entries: rest ignored`);
        return;
      }
      const dotted = normaliseSysctlKey(rawKey);
      const key = modernConntrackKey(dotted) ?? dotted;
      const glob = rawKey.includes("*") || rawKey.includes("?");
      entries.push({ key, rawKey, value, ignoreErrors, glob, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { entries }, warnings: warnings.done() };
    },
  };
};

// ---------------------------------------------------------------------------------------------
// Effective configuration

export const SYSCTL_DIRS = ["etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d", "lib/sysctl.d"] as const;

export const effectiveSchema = z.object({
  effective: z.record(
    z.string(),
    z.object({
      value: z.string(),
      ignoreErrors: z.boolean(),
      source: provenanceSchema,
      /** Earlier assignments of the same key that lost, in the order they were applied. */
      overridden: z.array(z.object({ value: z.string(), source: provenanceSchema })),
    }),
  ),
  /** Files in the order they are applied. */
  applied: z.array(z.string()),
  /** Files hidden by a same-named file in a higher-priority directory. */
  shadowed: z.array(z.object({ path: z.string(), by: z.string() })),
  /** Files not applied at all (e.g. README.sysctl: not *.conf). */
  ignored: z.array(z.object({ path: z.string(), reason: z.string() })),
});
export type EffectiveSysctlConf = z.infer<typeof effectiveSchema>;

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function dirRank(path: string): number | "sysctl.conf" {
  const p = path.replace(/^\/+/, "");
  if (p === "etc/sysctl.conf" || basename(p) === "sysctl.conf") return "sysctl.conf";
  const dir = p.slice(0, Math.max(0, p.lastIndexOf("/")));
  for (let i = 0; i < SYSCTL_DIRS.length; i++) {
    const d = SYSCTL_DIRS[i];
    if (d !== undefined && (dir === d || dir.endsWith(`/${d}`))) return i;
  }
  return SYSCTL_DIRS.length; // unknown location: lowest priority drop-in
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Resolves which assignment wins for each key, following the precedence documented at the top of this file. */
export function effectiveSysctlConf(files: { path: string; entries: SysctlConfEntry[] }[]): EffectiveSysctlConf {
  const ignored: EffectiveSysctlConf["ignored"] = [];
  const shadowed: EffectiveSysctlConf["shadowed"] = [];
  const winners = new Map<string, { rank: number; file: { path: string; entries: SysctlConfEntry[] } }>();
  const mainConfs: { path: string; entries: SysctlConfEntry[] }[] = [];
  for (const file of files) {
    const rank = dirRank(file.path);
    if (rank === "sysctl.conf") {
      mainConfs.push(file);
      continue;
    }
    const base = basename(file.path);
    if (rank < SYSCTL_DIRS.length && !base.endsWith(".conf")) {
      ignored.push({ path: file.path, reason: "not a *.conf file" });
      continue;
    }
    const current = winners.get(base);
    if (current === undefined) {
      winners.set(base, { rank, file });
    } else if (rank < current.rank) {
      shadowed.push({ path: current.file.path, by: file.path });
      winners.set(base, { rank, file });
    } else {
      shadowed.push({ path: file.path, by: current.file.path });
    }
  }
  const order = [...winners.entries()].sort((a, b) => byteCompare(a[0], b[0])).map(([, w]) => w.file);
  order.push(...mainConfs);
  type Winner = EffectiveSysctlConf["effective"][string];
  const effective = new Map<string, Winner>();
  for (const file of order) {
    for (const e of file.entries) {
      const source: Provenance = e.provenance;
      const prev = effective.get(e.key);
      if (prev === undefined) {
        effective.set(e.key, { value: e.value, ignoreErrors: e.ignoreErrors, source, overridden: [] });
      } else {
        prev.overridden.push({ value: prev.value, source: prev.source });
        prev.value = e.value;
        prev.ignoreErrors = e.ignoreErrors;
        prev.source = source;
      }
    }
  }
  return { effective: Object.fromEntries(effective), applied: order.map((f) => f.path), shadowed, ignored };
}
