/**
 * sos's own log, `sos_logs/sos.log`: which commands sos skipped and why, command and plugin
 * timeouts, plugin errors, and the collection window. A skipped `nft list ruleset` means "not
 * collected", never "no rules".
 *
 * Real sample (sos 4.0, Debian 12 guest):
 *   2026-11-22 06:40:54,522 INFO: [sos.report:setup] executing 'sos report --batch --all-logs -k process.lsof=off -o networking,kernel,logs,process,memory --tmp-dir /root/sos'
 *   2026-11-22 06:40:54,926 WARNING: [plugin:networking] skipped command 'ip -s macsec show': required kmods missing: macsec.  Use '--allow-system-changes' to enable collection.
 *   2026-11-22 06:41:01,438 INFO: [plugin:networking] collecting output of 'iptables -t nat -nvL'
 * Other sos 4.x texts handled: `command '%s' timed out after %ds`, `Plugin %s timed out`,
 * `caught exception in plugin method "%s.%s()"` (followed by traceback lines without a timestamp),
 * `skipped command '%s': required services missing: %s`. Times are the collector's local time (no zone).
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_EVENTS = 5000;

export const schema = z.object({
  /** The sos command line from the `executing '…'` line. */
  commandLine: z.string().nullable(),
  /** First and last timestamps in the log, local time `YYYY-MM-DD HH:MM:SS.mmm`. */
  firstTime: z.string().nullable(),
  lastTime: z.string().nullable(),
  skipped: z.array(
    z.object({
      plugin: z.string().nullable(),
      command: z.string(),
      reason: z.string(),
      /** From `required kmods missing: a, b.` */
      missingKmods: z.array(z.string()),
      missingServices: z.array(z.string()),
      provenance: provenanceSchema,
    }),
  ),
  timeouts: z.array(
    z.object({
      plugin: z.string().nullable(),
      /** The command, or null for a whole-plugin timeout. */
      command: z.string().nullable(),
      seconds: z.number().nullable(),
      provenance: provenanceSchema,
    }),
  ),
  errors: z.array(z.object({ plugin: z.string().nullable(), level: z.string(), message: z.string(), provenance: provenanceSchema })),
  /** Number of `collecting output of` lines per plugin (what sos did run). */
  collectedCommands: z.record(z.string(), z.number().int()),
});
export type SosLog = z.infer<typeof schema>;

const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),(\d{3}) ([A-Z]{4,8}): (.*)$/;
const PREFIX = /^\[([a-z_.]{1,40}):([A-Za-z0-9_.-]{1,80})\] /;

function splitList(text: string): string[] {
  return text
    .replace(/\.$/, "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** `'cmd': reason` → [cmd, reason]; quotes inside a command are rare, the last `': ` is not used. */
function quotedHead(text: string): [string, string] | null {
  if (!text.startsWith("'")) return null;
  const end = text.indexOf("'", 1);
  if (end < 0) return null;
  return [text.slice(1, end), text.slice(end + 1).replace(/^:\s*/, "").trim()];
}

export const create: ParserFactory<SosLog> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const value: SosLog = { commandLine: null, firstTime: null, lastTime: null, skipped: [], timeouts: [], errors: [], collectedCommands: {} };
  const collected = new Map<string, number>();
  let lastError: SosLog["errors"][number] | null = null;
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) return;
      if (line.trim() === "") return;
      const m = line.length >= 24 && line.charCodeAt(0) >= 48 && line.charCodeAt(0) <= 57 ? LINE.exec(line) : null;
      if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined || m[4] === undefined) {
        // continuation (traceback) of the previous error
        if (lastError !== null) lastError.provenance.lastLine = lineNo;
        return;
      }
      lastError = null;
      const time = `${m[1]}.${m[2]}`;
      value.firstTime ??= time;
      value.lastTime = time;
      const level = m[3];
      let msg = m[4];
      let plugin: string | null = null;
      const p = PREFIX.exec(msg);
      if (p?.[1] !== undefined && p[2] !== undefined) {
        if (p[1] === "plugin") plugin = p[2];
        msg = msg.slice(p[0].length);
      }
      if (msg.startsWith("collecting output of ")) {
        const k = plugin ?? "";
        collected.set(k, (collected.get(k) ?? 0) + 1);
        return;
      }
      if (msg.startsWith("executing '") && value.commandLine === null) {
        value.commandLine = quotedHead(msg.slice("executing ".length))?.[0] ?? null;
        return;
      }
      if (msg.startsWith("skipped command ")) {
        const q = quotedHead(msg.slice("skipped command ".length));
        if (q === null) {
          warnings.add(lineNo, `line ${lineNo}: skipped command without a quoted command (truncated?)`);
          return;
        }
        const [command, reason] = q;
        let missingKmods: string[] = [];
        let missingServices: string[] = [];
        const km = /required kmods missing: ([^.]*)\./.exec(reason) ?? /required kmods missing: (.*)$/.exec(reason);
        if (km?.[1] !== undefined) missingKmods = splitList(km[1]);
        const sv = /required services missing: ([^.]*)/.exec(reason);
        if (sv?.[1] !== undefined) missingServices = splitList(sv[1]);
        if (value.skipped.length < MAX_EVENTS) value.skipped.push({ plugin, command, reason, missingKmods, missingServices, provenance: prov(ctx, lineNo) });
        return;
      }
      if (msg.includes("timed out")) {
        let command: string | null = null;
        let seconds: number | null = null;
        const endQuote = msg.lastIndexOf("' timed out");
        if (msg.startsWith("command '") && endQuote > 8) {
          command = msg.slice("command '".length, endQuote);
          const after = /^' timed out after (\d{1,9})s/.exec(msg.slice(endQuote));
          if (after?.[1] !== undefined) seconds = Number(after[1]);
        }
        const pl = /^Plugin (\S{1,80}) timed out/.exec(msg.trim());
        if (value.timeouts.length < MAX_EVENTS) {
          value.timeouts.push({ plugin: plugin ?? pl?.[1] ?? null, command, seconds, provenance: prov(ctx, lineNo) });
        }
        return;
      }
      if (level === "ERROR" || level === "CRITICAL" || msg.startsWith("caught exception")) {
        if (value.errors.length < MAX_EVENTS) {
          lastError = { plugin, level, message: msg, provenance: prov(ctx, lineNo) };
          value.errors.push(lastError);
        }
      }
    },
    end() {
      value.collectedCommands = Object.fromEntries(collected);
      return { value, warnings: warnings.done() };
    },
  };
};
