/**
 * Kernel logs in every shape a bundle carries them: `dmesg` (raw, `-r` with `<4>` levels, `-T`,
 * `--time-format iso`), syslog files (kern.log, messages, syslog: traditional and RFC 3339
 * rsyslog formats), `journalctl -k` (short, short-iso, short-precise, with `-- Boot … --`
 * markers), OpenWrt `logread`, and ticket pastes of any of them (quote marks, fences, wrapped
 * lines). Sources: `sos_commands/kernel/dmesg`, `var/log/kern.log*`, `var/log/messages*`,
 * `sos_commands/logs/journalctl_*`, pasted `dmesg.txt`.
 *
 * Real samples:
 *   [    8.815494] nf_conntrack: nf_conntrack: table full, dropping packet          (sosreport, Debian 12, 6.1)
 *   [  272.213699] net_ratelimit: 470 callbacks suppressed                          (lab, 6.18)
 *   [  272.213705] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet
 *   2026-11-22T07:15:44.439354+00:00 lab-host kernel: [  276.245095] x_tables: ip_tables: MASQUERADE target: used from hooks PREROUTING, but only usable from POSTROUTING
 *   Nov 22 07:15:44 lab-host iptables-restore: line 3: RULE_APPEND failed (No such file or directory): rule in chain INPUT
 *
 * Each message gets a class (classify.ts), captured fields, and the count of rate-limited copies
 * attributed to it (ratelimit.ts). Memory stays bounded (store.ts).
 */
import { z } from "zod";
import type { ParseWarning, ParserFactory, Provenance } from "./types.js";
import { type KlogClass, type KlogFieldsFor, classifyMessage, klogClassSchema, klogFieldSchemas } from "./kernel-log/classify.js";
import { KLOG_FORMATS, type ParsedLine, looksLikeBrokenStamp, parseLine, parseMarker } from "./kernel-log/line-formats.js";
import { SuppressionAttributor } from "./kernel-log/ratelimit.js";
import { ClassBudget, isRelevantProgramLine } from "./kernel-log/store.js";
import { MAX_CONTINUATION_LINES, isFence, joinContinuation, unquote } from "./kernel-log/wrap.js";

export { KLOG_CLASSES, klogClassSchema, klogFieldSchemas, klogPatterns, classifyMessage, NET_RATELIMITED_CLASSES } from "./kernel-log/classify.js";
export type { KlogClass, KlogFieldsFor, KlogPattern } from "./kernel-log/classify.js";
export { KLOG_FORMATS } from "./kernel-log/line-formats.js";
export type { KlogFormat } from "./kernel-log/line-formats.js";

/** Longest raw/text kept per message; longer lines are cut (with a warning). */
export const MAX_KEPT_CHARS = 2048;
/** Longest part of a physical line that is looked at. */
const MAX_WORK_CHARS = 65536;
const MAX_WARNINGS = 100;

const int = z.number().int();
export const provenanceSchema = z.object({ path: z.string(), line: int, lastLine: int.optional() });
export const klogFormatSchema = z.enum(KLOG_FORMATS);

const messageBase = {
  provenance: provenanceSchema,
  /** The physical line(s), quote marks included, joined by "\n"; cut at MAX_KEPT_CHARS. */
  raw: z.string(),
  /** The message with its time/host/program/uptime prefix removed (wrapped lines joined). */
  text: z.string(),
  format: klogFormatSchema,
  /** Seconds since boot (`[ 123.456789]`). */
  uptime: z.number().optional(),
  /** ISO 8601 wall-clock time; has an offset only when the line has one (syslog year inferred from collectedAt). */
  time: z.string().optional(),
  host: z.string().optional(),
  program: z.string().optional(),
  pid: int.optional(),
  level: int.optional(),
  facility: z.string().optional(),
  /** Occurrences hidden by rate limiting and attributed to this message (`net_ratelimit: N callbacks suppressed`). */
  suppressed: int,
};

function variant<C extends KlogClass>(cls: C) {
  return z.object({ ...messageBase, class: z.literal(cls), fields: klogFieldSchemas[cls] });
}

/** One kept message; `fields` is typed by `class`. */
export const messageSchema = z.discriminatedUnion("class", [
  variant("ct-table-full"),
  variant("ct-expect-full"),
  variant("ct-banner"),
  variant("module-banner"),
  variant("ct-vmalloc-fallback"),
  variant("ct-helper-notice"),
  variant("xt-error"),
  variant("xt-recent"),
  variant("log-packet"),
  variant("alloc-failure"),
  variant("alloc-trace"),
  variant("oom-kill"),
  variant("avc-denial"),
  variant("neigh-overflow"),
  variant("tw-bucket-overflow"),
  variant("ipset-full"),
  variant("ipset-resize-failed"),
  variant("ratelimit-summary"),
  variant("ipt-load-error"),
  variant("ipt-extension-unsupported"),
  variant("ipt-no-such"),
  variant("ipt-einval"),
  variant("ipt-table-init"),
  variant("ipt-enomem"),
  variant("ipt-restore-failed"),
  variant("ipt-nft-op-failed"),
  variant("ipt-lock"),
  variant("nft-error"),
  variant("ipset-hash-full"),
  variant("modprobe-not-found"),
  variant("modprobe-install-error"),
  variant("sysctl-write-failed"),
  variant("unit-failed"),
  variant("kernel-version"),
  variant("other"),
]);
export type KlogMessage = z.infer<typeof messageSchema>;
// Compile-time check: the union above covers every class.
const everyClassHasVariant: KlogClass extends KlogMessage["class"] ? true : false = true;
void everyClassHasVariant;

export const bootMarkerSchema = z.object({
  kind: z.enum(["journal-boot", "journal-reboot", "journal-begin", "uptime-reset"]),
  /** Boot id of `-- Boot <id> --`. */
  id: z.string().optional(),
  text: z.string(),
  provenance: provenanceSchema,
});

const occurrenceSchema = z.object({ provenance: provenanceSchema, uptime: z.number().optional(), time: z.string().optional() });

export const classTotalsSchema = z.object({
  /** Messages of this class in the log. */
  count: int,
  /** Hidden occurrences attributed from rate-limit summaries. */
  suppressed: int,
  /** count + suppressed. */
  total: int,
  /** Messages of this class kept in `messages` (at most 5,000). */
  kept: int,
  first: occurrenceSchema,
  last: occurrenceSchema,
});

export const schema = z.object({
  /** Formats seen, in order of first appearance. */
  formats: z.array(klogFormatSchema),
  formatCounts: z.partialRecord(klogFormatSchema, int),
  lineCount: int,
  messageCount: int,
  /** The first message with an uptime is `[    0.000000]`: nothing was lost at the start of the ring buffer. */
  startsAtBoot: z.boolean(),
  firstUptime: z.number().optional(),
  lastUptime: z.number().optional(),
  firstTime: z.string().optional(),
  lastTime: z.string().optional(),
  boots: z.array(bootMarkerSchema),
  classes: z.partialRecord(klogClassSchema, classTotalsSchema),
  /** Kept messages in log order: every class except `other`, up to 5,000 per class, plus firewall-program lines. */
  messages: z.array(messageSchema),
  /** `other` messages counted but not kept. */
  otherDropped: int,
  /** Classified messages beyond the per-class cap (counted in `classes`, not kept). */
  overCap: int,
  logPacketCount: int,
  /** Share (0–1) of messages that are LOG-target packet lines. */
  logPacketShare: z.number(),
  /** Suppressed counts that no message of a matching class was near. */
  unattributedSuppressed: int,
  /** Lines that were neither a message, a continuation, a marker nor blank. */
  unparsedLines: int,
  binaryLines: int,
});

export type KernelLogFacts = z.infer<typeof schema>;
export type KlogClassTotals = z.infer<typeof classTotalsSchema>;
export type KlogBootMarker = z.infer<typeof bootMarkerSchema>;

/** A message being assembled (a wrapped message may take more lines). */
interface Building {
  parsed: ParsedLine;
  line: number;
  lastLine: number;
  raw: string;
  continuations: number;
  /** The first line had quote marks: a continuation must have them too. */
  quoted: boolean;
}

const BINARY = /[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]/;

function cut(s: string): string {
  return s.length > MAX_KEPT_CHARS ? s.slice(0, MAX_KEPT_CHARS) : s;
}

/**
 * A copy that shares no memory with the decoded chunk the line was sliced from: a kept message
 * holding a slice would keep that whole chunk (up to a MiB of log) alive.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (` ${s}`).slice(1);
}

function detachFields<T>(fields: T): T {
  if (fields === null || typeof fields !== "object") return fields;
  const f = fields as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    const v = f[k];
    if (typeof v === "string") f[k] = detach(v);
    else if (Array.isArray(v)) f[k] = v.map((x) => (typeof x === "string" ? detach(x) : x));
  }
  return fields;
}

export const create: ParserFactory<KernelLogFacts> = (ctx) => {
  const path = ctx.path;
  const warnings: ParseWarning[] = [];
  let warningsDropped = 0;
  const warn = (message: string, line?: number): void => {
    if (warnings.length >= MAX_WARNINGS) {
      warningsDropped++;
      return;
    }
    warnings.push(line === undefined ? { path, message } : { path, line, message });
  };

  const formatCounts = new Map<KlogFormat, number>();
  const classes = new Map<KlogClass, KlogClassTotals>();
  const messages: KlogMessage[] = [];
  const boots: KlogBootMarker[] = [];
  const budget = new ClassBudget();
  let lineCount = 0;
  let messageCount = 0;
  let otherDropped = 0;
  let overCap = 0;
  let logPacketCount = 0;
  let unparsedLines = 0;
  let binaryLines = 0;
  let firstUptime: number | undefined;
  let lastUptime: number | undefined;
  let firstTime: string | undefined;
  let lastTime: string | undefined;
  let journalSeen = false;
  let yearWarned = false;
  let building: Building | undefined;

  const attributor = new SuppressionAttributor<KlogMessage | undefined>((target, cls, n) => {
    if (target) target.suppressed += n;
    const t = classes.get(cls);
    if (t) t.suppressed += n;
  });

  const finish = (): void => {
    const b = building;
    if (!b) return;
    building = undefined;
    const p = b.parsed;
    const index = messageCount++;
    formatCounts.set(p.format, (formatCounts.get(p.format) ?? 0) + 1);
    const { cls, fields } = classifyMessage(p.text);
    const provenance: Provenance = b.lastLine > b.line ? { path, line: b.line, lastLine: b.lastLine } : { path, line: b.line };

    if (p.uptime !== undefined) {
      if (firstUptime === undefined) firstUptime = p.uptime;
      else if (lastUptime !== undefined && p.uptime + 5 < lastUptime) {
        boots.push({ kind: "uptime-reset", text: `uptime went back from ${lastUptime} to ${p.uptime}`, provenance: { path, line: b.line } });
      }
      lastUptime = p.uptime;
    }
    if (p.time !== undefined) {
      if (firstTime === undefined) firstTime = p.time;
      lastTime = p.time;
    }
    if (p.yearUnknown && !yearWarned) {
      yearWarned = true;
      warn("syslog time stamps have no year and the collection date is unknown: wall-clock times left out", b.line);
    }
    if (cls === "log-packet") logPacketCount++;

    const occurrence = { provenance, ...(p.uptime !== undefined ? { uptime: p.uptime } : {}), ...(p.time !== undefined ? { time: p.time } : {}) };
    const totals = classes.get(cls);
    if (totals) {
      totals.count++;
      totals.last = occurrence;
    } else {
      classes.set(cls, { count: 1, suppressed: 0, total: 0, kept: 0, first: occurrence, last: occurrence });
    }

    let keep: boolean;
    if (cls === "other") {
      keep = isRelevantProgramLine(p.program, p.text) && budget.take(cls);
      if (!keep) otherDropped++;
    } else {
      keep = budget.take(cls);
      if (!keep) overCap++;
    }
    let msg: KlogMessage | undefined;
    if (keep) {
      const m: Record<string, unknown> = { provenance, raw: detach(cut(b.raw)), text: detach(cut(p.text)), format: p.format };
      if (p.uptime !== undefined) m.uptime = p.uptime;
      if (p.time !== undefined) m.time = detach(p.time);
      if (p.host !== undefined) m.host = detach(p.host);
      if (p.program !== undefined) m.program = detach(p.program);
      if (p.pid !== undefined) m.pid = p.pid;
      if (p.level !== undefined) m.level = p.level;
      if (p.facility !== undefined) m.facility = p.facility;
      m.class = cls;
      m.fields = detachFields(fields);
      m.suppressed = 0;
      msg = m as KlogMessage;
      messages.push(msg);
    }
    if (cls === "ratelimit-summary") {
      const f = fields as KlogFieldsFor<"ratelimit-summary">;
      attributor.summary(f.func, f.suppressed, index);
    } else {
      attributor.message(msg, cls, index);
    }
  };

  const start = (parsed: ParsedLine, raw: string, lineNo: number, quoted: boolean): void => {
    finish();
    building = { parsed, line: lineNo, lastLine: lineNo, raw, continuations: 0, quoted };
  };

  return {
    push(input: string, lineNo: number): void {
      lineCount++;
      let line = input.endsWith("\r") ? input.slice(0, -1) : input;
      if (line.length > MAX_WORK_CHARS) {
        warn(`line is ${line.length} characters long: only the first ${MAX_WORK_CHARS} were read`, lineNo);
        line = line.slice(0, MAX_WORK_CHARS);
      }
      if (BINARY.test(line)) {
        binaryLines++;
        warn("binary data (control characters) in the line: skipped", lineNo);
        finish();
        return;
      }
      const { text, quoted } = unquote(line);
      if (isFence(text) || text.trim() === "") {
        finish();
        return;
      }
      const marker = parseMarker(text);
      if (marker) {
        finish();
        journalSeen = true;
        boots.push({ ...marker, provenance: { path, line: lineNo } });
        return;
      }
      const parsed = parseLine(text, ctx.collectedAt, journalSeen);
      if (parsed) {
        start(parsed, line, lineNo, quoted);
        return;
      }
      const broken = looksLikeBrokenStamp(text);
      if (building && !broken && building.quoted === quoted && building.continuations < MAX_CONTINUATION_LINES) {
        building.parsed.text = joinContinuation(building.parsed.text, text);
        building.raw = building.raw.length < MAX_KEPT_CHARS ? `${building.raw}\n${line}` : building.raw;
        building.lastLine = lineNo;
        building.continuations++;
        return;
      }
      finish();
      if (!broken && classifyMessage(text).cls !== "other") {
        // A bare message pasted without its prefix (e.g. into a ticket).
        start({ format: "bare", text: text.trim() }, line, lineNo, quoted);
        return;
      }
      unparsedLines++;
      if (broken) warn("line starts like a time stamp but could not be read (cut line?): skipped", lineNo);
    },

    end() {
      finish();
      attributor.end();
      if (unparsedLines > 0) warn(`${unparsedLines} line(s) were not kernel log messages and were skipped`);
      if (warningsDropped > 0) warnings.push({ path, message: `${warningsDropped} more warning(s) not shown` });
      const classOut: Partial<Record<KlogClass, KlogClassTotals>> = {};
      for (const [cls, t] of classes) classOut[cls] = { ...t, total: t.count + t.suppressed, kept: budget.keptOf(cls) };
      const formats = [...formatCounts.keys()];
      const value: KernelLogFacts = {
        formats,
        formatCounts: Object.fromEntries(formatCounts),
        lineCount,
        messageCount,
        startsAtBoot: firstUptime === 0,
        boots,
        classes: classOut,
        messages,
        otherDropped,
        overCap,
        logPacketCount,
        logPacketShare: messageCount === 0 ? 0 : logPacketCount / messageCount,
        unattributedSuppressed: attributor.unattributed,
        unparsedLines,
        binaryLines,
      };
      if (firstUptime !== undefined) value.firstUptime = firstUptime;
      if (lastUptime !== undefined) value.lastUptime = lastUptime;
      if (firstTime !== undefined) value.firstTime = firstTime;
      if (lastTime !== undefined) value.lastTime = lastTime;
      return { value, warnings };
    },
  };
};

type KlogFormat = z.infer<typeof klogFormatSchema>;
