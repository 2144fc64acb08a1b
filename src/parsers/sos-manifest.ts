/**
 * sos 4.x `sos_reports/manifest.json`: the sos version, command line and, per plugin, every
 * command run (exit code, output file, timeout) and file copied. The lines are collected and
 * parsed as one JSON document at the end (bounded); a document that does not match the schema still
 * yields what can be read, with a warning.
 *
 * Real sample (sos 4.0, Debian 12 guest; pretty-printed with 4 spaces):
 *   {
 *       "version": "4.0",
 *       "cmdline": "report --batch --all-logs -k process.lsof=off -o networking,kernel,logs,process,memory --tmp-dir /root/sos",
 *       "start_time": "2026-11-22 06:40:52.401788",
 *       "components": { "report": { "plugins": { "kernel": { "timeout_hit": false, "commands": [ {
 *           "command": "uname", "parameters": ["-a"], "exec": "uname -a",
 *           "filepath": "sos_commands/kernel/uname_-a", "return_code": 0, "run_time": 0.26, "tags": ["uname"] } ],
 *         "files": [ { "specification": "/proc/modules", "files_copied": ["proc/modules"], "tags": ["modules"] } ] } } } }
 *   }
 * Later sos 4.x adds per command `truncated`, `priority`, `start_time`; exit code 124 means the
 * command hit sos's timeout. Files cut to a size limit are stored under `sos_strings/…​.tailed`.
 * Provenance: the line of each command's `"exec"` key (pretty-printed manifests), else line 1.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { MAX_LINE_CHARS } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

/** Largest manifest read (real ones are < 1 MB). */
export const MAX_MANIFEST_CHARS = 64 * 1024 * 1024;

export const commandSchema = z.object({
  plugin: z.string(),
  exec: z.string(),
  filepath: z.string().nullable(),
  returnCode: z.number().nullable(),
  runTime: z.number().nullable(),
  /** sos's own timeout hit (exit code 124 or a `timeout_hit` flag). */
  timeoutHit: z.boolean(),
  /** Output cut to sos's size limit (sos ≥ 4.1 `truncated`); null when the manifest does not say. */
  truncated: z.boolean().nullable(),
  /** Exit code 127: the command does not exist on the host. */
  notFound: z.boolean(),
  provenance: provenanceSchema,
});

export const pluginSchema = z.object({
  name: z.string(),
  timeoutHit: z.boolean(),
  startTime: z.string().nullable(),
  endTime: z.string().nullable(),
  commandCount: z.number().int(),
  filesCopied: z.array(z.string()),
  /** Copied files that were cut (stored as sos_strings/…/*.tailed). */
  tailedFiles: z.array(z.string()),
});

export const schema = z.object({
  sosVersion: z.string().nullable(),
  cmdline: z.string().nullable(),
  startTime: z.string().nullable(),
  endTime: z.string().nullable(),
  policy: z.string().nullable(),
  plugins: z.array(pluginSchema),
  commands: z.array(commandSchema),
  /** False when the JSON did not match the expected sos 4.x shape (values are best effort). */
  schemaOk: z.boolean(),
});
export type SosManifest = z.infer<typeof schema>;
export type SosCommand = z.infer<typeof commandSchema>;

// The shape we expect from sos 4.x (extra keys allowed everywhere).
const rawCommand = z.looseObject({
  exec: z.string(),
  filepath: z.string().nullable().optional(),
  return_code: z.number().nullable().optional(),
  run_time: z.number().nullable().optional(),
  truncated: z.boolean().optional(),
  timeout_hit: z.boolean().optional(),
});
const rawFile = z.looseObject({ specification: z.string().optional(), files_copied: z.array(z.string()).optional() });
const rawPlugin = z.looseObject({
  timeout_hit: z.boolean().optional(),
  start_time: z.string().nullable().optional(),
  end_time: z.string().nullable().optional(),
  commands: z.array(rawCommand).optional(),
  files: z.array(rawFile).optional(),
});
export const rawManifestSchema = z.looseObject({
  version: z.string(),
  cmdline: z.string().optional(),
  start_time: z.string().optional(),
  end_time: z.string().optional(),
  policy: z.string().optional(),
  components: z.looseObject({ report: z.looseObject({ plugins: z.record(z.string(), rawPlugin) }) }),
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Commas and open brackets outside strings, scanning up to `limit`. */
function scan(text: string, limit: number): { commas: number[]; stack: string[] } {
  const commas: number[] = [];
  const stack: string[] = [];
  let inString = false;
  for (let i = 0; i < limit; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{" || c === "[") stack.push(c);
    else if (c === "}" || c === "]") stack.pop();
    else if (c === ",") commas.push(i);
  }
  return { commas, stack };
}

/**
 * A manifest cut short (disk full, archive truncated): drop everything after one of the last
 * top-level-complete commas and close the open brackets. Tries the last few commas; undefined if none works.
 */
export function repairTruncatedJson(text: string): unknown {
  const { commas } = scan(text, text.length);
  for (let k = commas.length - 1; k >= 0 && k >= commas.length - 8; k--) {
    const at = commas[k] ?? 0;
    const { stack } = scan(text, at);
    const closers = stack
      .reverse()
      .map((c) => (c === "{" ? "}" : "]"))
      .join("");
    try {
      return JSON.parse(text.slice(0, at) + closers);
    } catch {
      // try an earlier comma
    }
  }
  return undefined;
}

export const create: ParserFactory<SosManifest> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const parts: string[] = [];
  let size = 0;
  let overflow = false;
  const execLines: number[] = [];
  return {
    push(line, lineNo) {
      if (overflow) return;
      if (skipLine(line, lineNo, warnings, MAX_LINE_CHARS)) return;
      size += line.length + 1;
      if (size > MAX_MANIFEST_CHARS) {
        overflow = true;
        warnings.add(lineNo, `manifest larger than ${MAX_MANIFEST_CHARS} characters: not read`);
        return;
      }
      parts.push(line);
      if (line.includes('"exec"')) execLines.push(lineNo);
    },
    end() {
      const empty: SosManifest = { sosVersion: null, cmdline: null, startTime: null, endTime: null, policy: null, plugins: [], commands: [], schemaOk: false };
      if (overflow) return { value: empty, warnings: warnings.done() };
      const text = parts.join("\n");
      parts.length = 0;
      if (text.trim() === "") {
        warnings.add(undefined, "empty manifest");
        return { value: empty, warnings: warnings.done() };
      }
      let doc: unknown;
      let repaired = false;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        doc = repairTruncatedJson(text);
        if (doc === undefined) {
          warnings.add(undefined, `manifest is not valid JSON: ${(e as Error).message}`);
          return { value: empty, warnings: warnings.done() };
        }
        repaired = true;
        warnings.add(undefined, `manifest is not valid JSON (${(e as Error).message}): read up to the last complete value`);
      }
      const checked = rawManifestSchema.safeParse(doc);
      const schemaOk = checked.success && !repaired;
      if (!checked.success) {
        const issue = checked.error.issues[0];
        warnings.add(undefined, `manifest does not match the sos 4.x schema (${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "?"}): best effort`);
      }
      // Best-effort walk over the raw document (works whether or not the schema matched).
      const root = isRecord(doc) ? doc : {};
      const components = isRecord(root.components) ? root.components : {};
      const report = isRecord(components.report) ? components.report : {};
      const pluginsRaw = isRecord(report.plugins) ? report.plugins : {};
      const plugins: SosManifest["plugins"] = [];
      const commands: SosCommand[] = [];
      let execIndex = 0;
      for (const [name, pr] of Object.entries(pluginsRaw)) {
        const p = isRecord(pr) ? pr : {};
        const cmds = Array.isArray(p.commands) ? p.commands : [];
        const files = Array.isArray(p.files) ? p.files : [];
        const filesCopied: string[] = [];
        for (const f of files) {
          if (!isRecord(f) || !Array.isArray(f.files_copied)) continue;
          for (const c of f.files_copied) if (typeof c === "string") filesCopied.push(c);
        }
        for (const c of cmds) {
          if (!isRecord(c)) continue;
          const exec = str(c.exec);
          const line = typeof c.exec === "string" ? (execLines[execIndex++] ?? 1) : 1;
          if (exec === null) continue;
          const returnCode = num(c.return_code);
          commands.push({
            plugin: name,
            exec,
            filepath: str(c.filepath),
            returnCode,
            runTime: num(c.run_time),
            timeoutHit: returnCode === 124 || c.timeout_hit === true,
            truncated: typeof c.truncated === "boolean" ? c.truncated : null,
            notFound: returnCode === 127,
            provenance: prov(ctx, line),
          });
        }
        plugins.push({
          name,
          timeoutHit: p.timeout_hit === true,
          startTime: str(p.start_time),
          endTime: str(p.end_time),
          commandCount: cmds.length,
          filesCopied,
          tailedFiles: filesCopied.filter((f) => f.endsWith(".tailed") || f.startsWith("sos_strings/")),
        });
      }
      const value: SosManifest = {
        sosVersion: str(root.version),
        cmdline: str(root.cmdline),
        startTime: str(root.start_time),
        endTime: str(root.end_time),
        policy: str(root.policy),
        plugins,
        commands,
        schemaOk,
      };
      return { value, warnings: warnings.done() };
    },
  };
};
