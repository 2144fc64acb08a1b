/**
 * `manifest.json` at the top of an nfdiag collector tarball (written by
 * src/collector/nfdiag-collect.sh without jq; layout in docs/collector-layout.md).
 *
 * It says what the collector ran, skipped (and why), cut or timed out, so the analyzer can tell
 * "absent because skipped" from "empty". Field names are the file's own (snake_case).
 *
 * Real sample (trimmed; Linux 6.18 with netfilter built in, run as root):
 *   {
 *     "collector": "nfdiag-collect", "collector_version": "0.1.0", "manifest_version": 1,
 *     "args": ["-o", "/tmp/nfo", "--sample-seconds", "1"],
 *     "start": {"date_u": "Sun Nov 22 07:21:20 UTC 2026", "utc": "2026-11-22T07:21:20Z",
 *               "epoch": 1795332080, "epoch_ms": 1795332080065},
 *     "host": "vm", "kernel": "6.18.44-fc-v669", "uid": 0, "is_root": true,
 *     "modules": {"support": "none", "state": {"nf_tables": {"loaded": true,
 *                 "evidence": "built in (CONFIG_NF_TABLES=y in /proc/config.gz)"}}, "changed": false, ...},
 *     "commands": [{"output": "commands/conntrack_-L_-o_extended.gz", "argv": ["conntrack", "-L", "-o", "extended"],
 *                   "skipped": true, "skip_reason": "replaced by /proc/net/nf_conntrack (same data, no netlink)", ...}],
 *     "files": [{"path": "/proc/net/nf_conntrack", "stored": "files/proc/net/nf_conntrack.gz",
 *                "status": "copied", "bytes": 0, "compressed": true, ...}],
 *     "warnings": []
 *   }
 *
 * The parser collects the lines and parses them at the end. It never throws: invalid JSON gives a
 * warning and an empty manifest; a schema mismatch gives warnings and a best-effort value that
 * keeps every field (and every list element) that does validate.
 */
import { z } from "zod";
import type { ParseResult, ParseWarning, ParserFactory } from "./types.js";

const count = z.number().int().nonnegative();

/** One command the collector ran, skipped, or derived itself (modules_on_disk, sysctl walk...). */
export const commandRecordSchema = z.looseObject({
  /** Path inside the tarball's top folder, e.g. `commands/nft_list_ruleset`, `netns/ns1/commands/...`. */
  output: z.string(),
  /** Full argv (netns commands include `ip netns exec NAME`); derived listings describe their source. */
  argv: z.array(z.string()),
  netns: z.string().nullable(),
  derived: z.boolean(),
  skipped: z.boolean(),
  /** e.g. "nf_tables, nfnetlink not loaded: nft not run, it would load the modules". */
  skip_reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  duration_ms: z.number().int(),
  /** Bytes of output kept (uncompressed), truncation marker excluded. */
  bytes: count,
  /** Bytes of the stored file (compressed size for .gz). */
  stored_bytes: count,
  truncated: z.boolean(),
  compressed: z.boolean(),
  /** False when nothing was written (skipped, or failed with no output). */
  stored: z.boolean(),
  /** First 2000 bytes of stderr. */
  stderr: z.string().nullable(),
});

export const fileRecordSchema = z.looseObject({
  /** Absolute path on the collected host. */
  path: z.string(),
  /** Path inside the tarball's top folder, null when not copied. */
  stored: z.string().nullable(),
  /** skipped: the --max-seconds budget was spent before the file's turn. */
  status: z.enum(["copied", "absent", "unreadable", "error", "skipped"]),
  bytes: count,
  stored_bytes: count,
  truncated: z.boolean(),
  compressed: z.boolean(),
  timed_out: z.boolean(),
  error: z.string().nullable(),
});

const instantSchema = z.looseObject({
  /** Output of `date -u`. */
  date_u: z.string(),
  /** ISO 8601 UTC, e.g. 2026-11-22T07:21:20Z. */
  utc: z.string(),
  epoch: z.number().int(),
  epoch_ms: z.number().int(),
});

export const moduleGateSchema = z.looseObject({ loaded: z.boolean(), evidence: z.string() });

export const schema = z.looseObject({
  collector: z.string(),
  collector_version: z.string(),
  manifest_version: z.number().int(),
  args: z.array(z.string()),
  options: z.looseObject({
    root: z.string(),
    outdir: z.string(),
    sample_seconds: count,
    max_file_bytes: count,
    timeout_seconds: count,
    max_seconds: count,
    conntrack_table: z.boolean(),
    netns: z.string(),
  }),
  start: instantSchema,
  end: instantSchema,
  duration_ms: z.number().int(),
  host: z.string(),
  /** `uname -r` of the collected kernel. */
  kernel: z.string(),
  uname: z.string(),
  uid: z.number().int(),
  user: z.string(),
  is_root: z.boolean(),
  uptime_seconds: z.number().nullable(),
  btime: z.number().int().nullable(),
  boot_id: z.string().nullable(),
  timezone: z.looseObject({
    name: z.string().nullable(),
    abbrev: z.string().nullable(),
    utc_offset: z.string().nullable(),
  }),
  /** gnu-timeout | watcher+setsid | watcher */
  timeout_method: z.string(),
  iptables: z.looseObject({
    path: z.string().nullable(),
    resolved: z.string().nullable(),
    backend: z.enum(["nft", "legacy", "unknown", "absent"]),
  }),
  modules: z.looseObject({
    /** loadable: /proc/modules; none: no module support (built-in kernel); disabled: modules_disabled=1. */
    support: z.enum(["loadable", "none", "disabled", "unknown"]),
    support_reason: z.string(),
    config_source: z.string().nullable(),
    builtin_source: z.string().nullable(),
    /** Gate verdicts: module name -> loaded (or built in) and the evidence used. */
    state: z.record(z.string(), moduleGateSchema),
    before: z.array(z.string()),
    after: z.array(z.string()),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    /** True when modules were loaded/unloaded during the run (also a warning). */
    changed: z.boolean(),
  }),
  samples: z.array(
    z.looseObject({ n: z.number().int(), epoch: z.number().int(), epoch_ms: z.number().int(), dir: z.string() }),
  ),
  netns: z.looseObject({ mode: z.string(), names: z.array(z.string()) }),
  commands: z.array(commandRecordSchema),
  files: z.array(fileRecordSchema),
  permission_denied: z.array(z.string()),
  warnings: z.array(z.string()),
});

export type CollectorManifest = z.infer<typeof schema>;
export type CollectorCommandRecord = z.infer<typeof commandRecordSchema>;
export type CollectorFileRecord = z.infer<typeof fileRecordSchema>;

/** The value returned when nothing usable could be read. */
export function emptyManifest(): CollectorManifest {
  const instant = { date_u: "", utc: "", epoch: 0, epoch_ms: 0 };
  return {
    collector: "",
    collector_version: "",
    manifest_version: 0,
    args: [],
    options: {
      root: "",
      outdir: "",
      sample_seconds: 0,
      max_file_bytes: 0,
      timeout_seconds: 0,
      max_seconds: 0,
      conntrack_table: false,
      netns: "",
    },
    start: { ...instant },
    end: { ...instant },
    duration_ms: 0,
    host: "",
    kernel: "",
    uname: "",
    uid: -1,
    user: "",
    is_root: false,
    uptime_seconds: null,
    btime: null,
    boot_id: null,
    timezone: { name: null, abbrev: null, utc_offset: null },
    timeout_method: "",
    iptables: { path: null, resolved: null, backend: "unknown" },
    modules: {
      support: "unknown",
      support_reason: "",
      config_source: null,
      builtin_source: null,
      state: {},
      before: [],
      after: [],
      added: [],
      removed: [],
      changed: false,
    },
    samples: [],
    netns: { mode: "", names: [] },
    commands: [],
    files: [],
    permission_denied: [],
    warnings: [],
  };
}

const MAX_WARNINGS = 50;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Keeps what validates: object fields one by one, array elements one by one, record entries one
 * by one; anything else falls back to `fallback`. Each loss is reported once.
 */
function salvage(node: z.ZodType, value: unknown, fallback: unknown, where: string, lost: string[]): unknown {
  const direct = node.safeParse(value);
  if (direct.success) return direct.data;
  if (node instanceof z.ZodObject && isRecord(value) && isRecord(fallback)) {
    const out: Record<string, unknown> = { ...value };
    for (const [key, child] of Object.entries(node.shape as Record<string, z.ZodType>)) {
      out[key] = salvage(child, value[key], fallback[key], where ? `${where}.${key}` : key, lost);
    }
    return out;
  }
  if (node instanceof z.ZodArray && Array.isArray(value)) {
    const element = node.element as z.ZodType;
    const kept: unknown[] = [];
    value.forEach((item, i) => {
      const r = element.safeParse(item);
      if (r.success) kept.push(r.data);
      else lost.push(`${where}[${i}] dropped: ${describe(r.error)}`);
    });
    return kept;
  }
  if (node instanceof z.ZodRecord && isRecord(value)) {
    const valueType = node.valueType as z.ZodType;
    const kept: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const r = valueType.safeParse(item);
      if (r.success) kept[key] = r.data;
      else lost.push(`${where}.${key} dropped: ${describe(r.error)}`);
    }
    return kept;
  }
  lost.push(`${where || "manifest"}: ${value === undefined ? "missing" : describe(direct.error)}`);
  return fallback;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid";
  const at = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  const more = error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : "";
  return `${at}${issue.message}${more}`;
}

/** Validates an already-parsed manifest; never throws. */
export function validateManifest(raw: unknown, path: string): ParseResult<CollectorManifest> {
  const warnings: ParseWarning[] = [];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data, warnings };
  if (!isRecord(raw)) {
    warnings.push({ path, message: "collector manifest is not a JSON object: nothing usable" });
    return { value: emptyManifest(), warnings };
  }
  const lost: string[] = [];
  const value = salvage(schema, raw, emptyManifest(), "", lost) as CollectorManifest;
  warnings.push({
    path,
    message: `collector manifest does not match the expected schema (${lost.length} problem(s)); kept what validates`,
  });
  for (const message of lost.slice(0, MAX_WARNINGS)) warnings.push({ path, message });
  if (lost.length > MAX_WARNINGS) warnings.push({ path, message: `... ${lost.length - MAX_WARNINGS} more problem(s)` });
  return { value, warnings };
}

/** Manifests are small (a few hundred KB at most); anything beyond this is not ours. */
const MAX_CHARS = 64 * 1024 * 1024;

export const create: ParserFactory<CollectorManifest> = (ctx) => {
  const chunks: string[] = [];
  let size = 0;
  let overflow = false;
  return {
    push(line) {
      if (overflow) return;
      size += line.length + 1;
      if (size > MAX_CHARS) {
        overflow = true;
        return;
      }
      chunks.push(line);
    },
    end() {
      if (overflow) {
        return {
          value: emptyManifest(),
          warnings: [{ path: ctx.path, message: `collector manifest larger than ${MAX_CHARS} characters: not parsed` }],
        };
      }
      let raw: unknown;
      try {
        raw = JSON.parse(chunks.join("\n"));
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        return {
          value: emptyManifest(),
          warnings: [{ path: ctx.path, message: `collector manifest is not valid JSON: ${message}` }],
        };
      }
      return validateManifest(raw, ctx.path);
    },
  };
};
