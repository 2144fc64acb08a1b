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
 *
 * Speed (a 1 GB bundle has millions of lines, nearly all over the per-class cap): the common line
 * shapes are read by offsets (readLineFast) and the two commonest texts by one capture-free regex
 * (classify.ts shapes); other texts are classified once per distinct text (verdicts). Time, host,
 * program and text stay offsets into the line, and fields are read, only for kept messages; lines
 * the fast path declines go through the general reader (pushSlow), which gives the same result.
 */
import { z } from "zod";
import type { ParseResult, ParseWarning, ParserFactory, Provenance } from "./types.js";
import {
  CT_FULL_INDEX,
  type KlogClass,
  type KlogFieldsFor,
  OTHER_INDEX,
  RATELIMIT_INDEX,
  RATELIMIT_SHAPE_NUMBER,
  SHAPE_CT_FULL,
  SHAPE_NONE,
  SHAPE_RATELIMIT,
  classOfIndex,
  classifyIndex,
  fieldsOfIndex,
  klogClassSchema,
  klogFieldSchemas,
  prepareText,
  shapeAt,
} from "./kernel-log/classify.js";
import { type FastLine, KLOG_FORMATS, type ParsedLine, inferYear, looksLikeBrokenStamp, parseLine, parseMarker, readLineFast, syslogDatePrefixes } from "./kernel-log/line-formats.js";
import { type Seen, SuppressionAttributor } from "./kernel-log/ratelimit.js";
import { MAX_KEPT_PER_CLASS, MAX_NEW_AFTER_CAP, isRelevantProgramLine } from "./kernel-log/store.js";
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
  /** Messages of this class kept in `messages`: the first 2,000, then only new texts (200 more at most). */
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
  /** Kept messages in log order: every class except `other` (the first 2,000 of each, then up to 200 with a text not kept yet), plus firewall-program lines. */
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

/** Per-class totals while reading; the last occurrence stays a Msg until the next sweep. */
interface Totals {
  count: number;
  suppressed: number;
  kept: number;
  first: Occurrence;
  last: Occurrence | undefined;
  lastMsg: Msg | undefined;
  /** The attributor's slot of the class. */
  slot: Seen<KlogMessage | undefined> | undefined;
}
type Occurrence = KlogClassTotals["first"];

/** How a message text classifies; remembered per distinct text (logs repeat the same texts). */
interface Verdict {
  /** classifyIndex() of the prepared text. */
  index: number;
  cls: KlogClass;
  /** ratelimit-summary: the function and count (the attributor needs them for every summary). */
  func: string;
  n: number;
  /** This file's totals of the class, once known. */
  totals: Totals | undefined;
  /** A message with this text was kept (past the cap, only new texts are). */
  kept: boolean;
}

/** LOG prefixes remembered to tell a new one past the cap (every packet's line differs). */
const MAX_LOG_PREFIXES = 4096;

/** The text of a LOG line before its `IN=`: the rule's --log-prefix ("" for the rules without one). */
function logPrefixOf(text: string): string {
  const at = text.indexOf("IN=");
  return at <= 0 ? "" : text.slice(0, at);
}

/** Distinct message texts whose verdict is remembered; the table is emptied when full. */
const MAX_VERDICTS = 4096;
/** Longer texts are classified every time. */
const MAX_VERDICT_KEY = 1024;
/** Interned host and program names (they repeat on every line); longer names are only copied. */
const MAX_INTERNED = 1024;
const MAX_INTERNED_CHARS = 128;
/**
 * Every this many messages (a power of two, minus one) the last occurrences are copied out of the
 * log's text: a reference into a line keeps its whole decoded chunk alive, and chunks kept alive
 * by rare classes would survive every young-generation collection and be promoted.
 */
const SWEEP_MASK = 0xfff;

/**
 * A message being assembled (a wrapped message may take more lines). Lines read by the fast path
 * keep time, host and program as offsets into `raw` until a message is kept. A Msg is reused once
 * nothing refers to it any more (`refs`: the parser's building message, a class's last message,
 * the last message with a time), so that reading a line allocates nothing in the common case.
 */
class Msg implements FastLine {
  declare format: KlogFormat;
  /** The physical line(s), joined by "\n" (cut at MAX_KEPT_CHARS while assembling). */
  declare raw: string;
  /** The message text; undefined while it is raw.slice(textStart) (see textOf). */
  declare text: string | undefined;
  /** When >= 0, the text is raw.slice(textStart). */
  declare textStart: number;
  declare line: number;
  declare lastLine: number;
  declare continuations: number;
  /** The first line had quote marks: a continuation must have them too. */
  declare quoted: boolean;
  /** The verdict of the text, when known already. */
  declare verdict: Verdict | undefined;
  /** The count of a `net_ratelimit: N callbacks suppressed` read by the fast path (else -1). */
  declare suppressedN: number;
  declare uptime: number | undefined;
  declare level: number | undefined;
  declare facility: string | undefined;
  declare yearUnknown: boolean;
  declare pid: number | undefined;
  /** Set by parseLine; the fast path sets the offsets below instead. */
  declare time: string | undefined;
  declare host: string | undefined;
  declare program: string | undefined;
  declare timePre: string;
  declare timeA: number;
  declare timeB: number;
  declare hostA: number;
  declare hostB: number;
  declare progA: number;
  declare progB: number;
  declare progKernel: boolean;
  declare shape: number;
  declare refs: number;

  constructor() {
    this.reset();
  }

  /** Every member empty, as for a new line. */
  reset(): void {
    this.format = "bare";
    this.raw = "";
    this.text = undefined;
    this.textStart = -1;
    this.line = 0;
    this.lastLine = 0;
    this.continuations = 0;
    this.quoted = false;
    this.verdict = undefined;
    this.suppressedN = -1;
    this.uptime = undefined;
    this.level = undefined;
    this.facility = undefined;
    this.yearUnknown = false;
    this.pid = undefined;
    this.time = undefined;
    this.host = undefined;
    this.program = undefined;
    this.timePre = "";
    this.timeA = 0;
    this.timeB = 0;
    this.hostA = 0;
    this.hostB = 0;
    this.progA = 0;
    this.progB = 0;
    this.progKernel = false;
    this.shape = SHAPE_NONE;
    this.refs = 0;
  }
}

function msgOfParsed(p: ParsedLine, raw: string, lineNo: number, quoted: boolean): Msg {
  const m = new Msg();
  m.refs = 1;
  m.format = p.format;
  m.raw = raw;
  m.text = p.text;
  m.line = lineNo;
  m.lastLine = lineNo;
  m.quoted = quoted;
  m.uptime = p.uptime;
  m.level = p.level;
  m.facility = p.facility;
  m.yearUnknown = p.yearUnknown === true;
  m.pid = p.pid;
  m.time = p.time;
  m.host = p.host;
  m.program = p.program;
  return m;
}

function textOf(m: Msg): string {
  if (m.text === undefined) m.text = m.raw.slice(m.textStart);
  return m.text;
}

function timeOf(m: Msg): string | undefined {
  if (m.timeB === 0) return m.time;
  const s = m.raw.slice(m.timeA, m.timeB);
  return m.timePre === "" ? s : m.timePre + s;
}

const hostOf = (m: Msg): string | undefined => (m.hostB > 0 ? m.raw.slice(m.hostA, m.hostB) : m.host);
const programOf = (m: Msg): string | undefined => (m.progB > 0 ? m.raw.slice(m.progA, m.progB) : m.program);

const BINARY = /[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]/;

/** Marks a line the fast path found control characters in (handed to the general reader). */
const BINARY_LINE: Verdict = { index: -1, cls: "other", func: "", n: 0, totals: undefined, kept: false };

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
  const collectedAt = ctx.collectedAt ?? (ctx.yearLater ? YEAR_LATER : undefined);
  const datePrefix = syslogDatePrefixes(collectedAt);
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
  /** Messages of runFormat not yet added to formatCounts (consecutive messages share their format). */
  let runFormat: KlogFormat | undefined;
  let runCount = 0;
  const flushFormatRun = (): void => {
    if (runFormat !== undefined) formatCounts.set(runFormat, (formatCounts.get(runFormat) ?? 0) + runCount);
    runCount = 0;
  };
  const classes = new Map<KlogClass, Totals>();
  const messages: KlogMessage[] = [];
  const boots: KlogBootMarker[] = [];
  const verdicts = new Map<string, Verdict>();
  const ctFullVerdict: Verdict = { index: CT_FULL_INDEX, cls: "ct-table-full", func: "", n: 0, totals: undefined, kept: false };
  const ratelimitVerdict: Verdict = { index: RATELIMIT_INDEX, cls: "ratelimit-summary", func: "net_ratelimit", n: 0, totals: undefined, kept: false };
  /** LOG prefixes of the kept log-packet messages (what tells one LOG rule from another). */
  const keptLogPrefixes = new Set<string>();
  const interned = new Map<string, string>();
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
  /** The last message with a time, when newer than lastTime. */
  let lastTimeMsg: Msg | undefined;
  let journalSeen = false;
  let yearWarned = false;
  let building: Msg | undefined;
  /** Msgs nothing refers to, for the next lines. */
  const spare: Msg[] = [];
  const release = (m: Msg | undefined): void => {
    if (m !== undefined && --m.refs === 0 && spare.length < 4) spare.push(m);
  };

  const attributor = new SuppressionAttributor<KlogMessage | undefined>((target, cls, n) => {
    if (target) target.suppressed += n;
    const t = classes.get(cls);
    if (t) t.suppressed += n;
  });

  const provenanceOf = (m: Msg): Provenance => (m.lastLine > m.line ? { path, line: m.line, lastLine: m.lastLine } : { path, line: m.line });

  const occurrenceOf = (m: Msg): Occurrence => {
    const o: Occurrence = { provenance: provenanceOf(m) };
    if (m.uptime !== undefined) o.uptime = m.uptime;
    const time = timeOf(m);
    if (time !== undefined) o.time = detach(time);
    return o;
  };

  /** Copies the last occurrences out of the log text, so that no old chunk of it stays alive. */
  const sweep = (): void => {
    for (const t of classes.values()) {
      if (t.lastMsg) {
        t.last = occurrenceOf(t.lastMsg);
        release(t.lastMsg);
        t.lastMsg = undefined;
      }
    }
    if (lastTimeMsg) {
      lastTime = detach(timeOf(lastTimeMsg) ?? "");
      release(lastTimeMsg);
      lastTimeMsg = undefined;
    }
  };

  const intern = (s: string | undefined): string | undefined => {
    if (s === undefined) return undefined;
    if (s.length > MAX_INTERNED_CHARS) return detach(s);
    const known = interned.get(s);
    if (known !== undefined) return known;
    const copy = detach(s);
    if (interned.size < MAX_INTERNED) interned.set(copy, copy);
    return copy;
  };

  const judge = (text: string): Verdict => {
    const t = prepareText(text);
    const index = classifyIndex(t);
    const cls = classOfIndex(index);
    const v: Verdict = { index, cls, func: "", n: 0, totals: classes.get(cls), kept: false };
    if (cls === "ratelimit-summary") {
      const f = fieldsOfIndex(index, t) as KlogFieldsFor<"ratelimit-summary">;
      v.func = detach(f.func);
      v.n = f.suppressed;
    }
    // LOG lines differ in every packet: remembering them would only push the others out.
    if (cls !== "log-packet" && text.length <= MAX_VERDICT_KEY) {
      if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
      verdicts.set(detach(text), v);
    }
    return v;
  };

  const keepMessage = (m: Msg, v: Verdict): KlogMessage => {
    // One copy of the line; text, time and fields are slices of it (when the line was not cut).
    const whole = m.raw.length <= MAX_KEPT_CHARS;
    const raw = detach(cut(m.raw));
    const fullText = textOf(m);
    const text = whole && m.textStart >= 0 ? raw.slice(m.textStart) : detach(cut(fullText));
    const provenance = provenanceOf(m);
    const format = m.format;
    const uptime = m.uptime;
    let time: string | undefined;
    if (m.timeB > 0) time = whole && m.timePre === "" ? raw.slice(m.timeA, m.timeB) : detach(timeOf(m) ?? "");
    else if (m.time !== undefined) time = detach(m.time);
    const host = intern(hostOf(m));
    const program = intern(programOf(m));
    const cls = v.cls;
    // Fields read from the copy share its memory; from a longer text they are copied one by one.
    const fields = fullText.length <= MAX_KEPT_CHARS ? fieldsOfIndex(v.index, prepareText(text)) : detachFields(fieldsOfIndex(v.index, prepareText(fullText)));
    // The usual member sets as one literal each (one allocation, members in the object itself);
    // members are in schema order and absent (not undefined) when the line has no such part.
    if (m.pid === undefined && m.level === undefined && m.facility === undefined) {
      if (time !== undefined && host !== undefined && program !== undefined) {
        if (uptime !== undefined) return { provenance, raw, text, format, uptime, time, host, program, class: cls, fields, suppressed: 0 } as KlogMessage;
        return { provenance, raw, text, format, time, host, program, class: cls, fields, suppressed: 0 } as KlogMessage;
      }
      if (uptime !== undefined && time === undefined && host === undefined && program === undefined) {
        return { provenance, raw, text, format, uptime, class: cls, fields, suppressed: 0 } as KlogMessage;
      }
    }
    const o: Record<string, unknown> = { provenance, raw, text, format };
    if (uptime !== undefined) o.uptime = uptime;
    if (time !== undefined) o.time = time;
    if (host !== undefined) o.host = host;
    if (program !== undefined) o.program = program;
    if (m.pid !== undefined) o.pid = m.pid;
    if (m.level !== undefined) o.level = m.level;
    if (m.facility !== undefined) o.facility = detach(m.facility);
    o.class = cls;
    o.fields = fields;
    o.suppressed = 0;
    return o as KlogMessage;
  };

  const finish = (): void => {
    const m = building;
    if (!m) return;
    building = undefined;
    const index = messageCount++;
    if ((index & SWEEP_MASK) === SWEEP_MASK) sweep();
    if (m.format !== runFormat) {
      flushFormatRun();
      runFormat = m.format;
      if (!formatCounts.has(runFormat)) formatCounts.set(runFormat, 0);
    }
    runCount++;
    const v = m.verdict ?? judge(textOf(m));
    const cls = v.cls;

    const uptime = m.uptime;
    if (uptime !== undefined) {
      if (firstUptime === undefined) firstUptime = uptime;
      else if (lastUptime !== undefined && uptime + 5 < lastUptime) {
        boots.push({ kind: "uptime-reset", text: `uptime went back from ${lastUptime} to ${uptime}`, provenance: { path, line: m.line } });
      }
      lastUptime = uptime;
    }
    if (m.timeB > 0 || m.time !== undefined) {
      if (firstTime === undefined) firstTime = detach(timeOf(m) ?? "");
      const previous = lastTimeMsg;
      lastTimeMsg = m;
      m.refs++;
      release(previous);
    }
    if (m.yearUnknown && !yearWarned) {
      yearWarned = true;
      warn(YEARLESS_WARNING, m.line);
    }
    if (cls === "log-packet") logPacketCount++;

    let totals = v.totals;
    if (!totals) {
      totals = classes.get(cls);
      if (!totals) {
        totals = { count: 0, suppressed: 0, kept: 0, first: occurrenceOf(m), last: undefined, lastMsg: undefined, slot: attributor.slot(cls) };
        classes.set(cls, totals);
      }
      v.totals = totals;
    }
    totals.count++;
    const previousOfClass = totals.lastMsg;
    totals.lastMsg = m;
    m.refs++;
    release(previousOfClass);

    let keep: boolean;
    if (cls === "other") {
      keep = !m.progKernel && isRelevantProgramLine(programOf(m), textOf(m)) && totals.kept < MAX_KEPT_PER_CLASS;
      if (!keep) otherDropped++;
    } else {
      keep = totals.kept < MAX_KEPT_PER_CLASS || (totals.kept < MAX_KEPT_PER_CLASS + MAX_NEW_AFTER_CAP && saysSomethingNew(m, v));
      if (!keep) overCap++;
    }
    let msg: KlogMessage | undefined;
    if (keep) {
      totals.kept++;
      msg = keepMessage(m, v);
      messages.push(msg);
      v.kept = true;
      if (cls === "log-packet" && keptLogPrefixes.size < MAX_LOG_PREFIXES) keptLogPrefixes.add(detach(logPrefixOf(textOf(m))));
    }
    if (cls === "ratelimit-summary") attributor.summary(v.func, m.suppressedN >= 0 ? m.suppressedN : v.n, index);
    else attributor.messageIn(totals.slot, msg, cls, index);
    release(m);
  };

  /** Past the cap: a text no kept message has (a LOG line: a prefix none has). */
  const saysSomethingNew = (m: Msg, v: Verdict): boolean => (v.cls === "log-packet" ? !keptLogPrefixes.has(logPrefixOf(textOf(m))) : !v.kept);

  const start = (m: Msg): void => {
    finish();
    building = m;
  };

  /** Every line the fast path does not take: the general reader. */
  const pushSlow = (input: string, lineNo: number): void => {
    let line = input;
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
      // Copies: the marker's strings are slices of the log text.
      if (marker.id !== undefined) marker.id = detach(marker.id);
      marker.text = detach(marker.text);
      boots.push({ ...marker, provenance: { path, line: lineNo } });
      return;
    }
    const parsed = parseLine(text, collectedAt, journalSeen);
    if (parsed) {
      start(msgOfParsed(parsed, line, lineNo, quoted));
      return;
    }
    const broken = looksLikeBrokenStamp(text);
    const b = building;
    if (b && !broken && b.quoted === quoted && b.continuations < MAX_CONTINUATION_LINES) {
      b.text = joinContinuation(textOf(b), text);
      b.textStart = -1;
      b.verdict = undefined;
      b.suppressedN = -1;
      b.raw = b.raw.length < MAX_KEPT_CHARS ? `${b.raw}\n${line}` : b.raw;
      b.lastLine = lineNo;
      b.continuations++;
      return;
    }
    finish();
    if (!broken && classifyIndex(prepareText(text)) !== OTHER_INDEX) {
      // A bare message pasted without its prefix (e.g. into a ticket).
      start(msgOfParsed({ format: "bare", text: text.trim() }, line, lineNo, quoted));
      return;
    }
    unparsedLines++;
    if (broken) warn("line starts like a time stamp but could not be read (cut line?): skipped", lineNo);
  };

  return {
    push(input: string, lineNo: number): void {
      lineCount++;
      const line = input.charCodeAt(input.length - 1) === 0x0d ? input.slice(0, -1) : input;
      if (line.length <= MAX_WORK_CHARS) {
        // Fast path: a common prefix read by offsets, and a text seen before (so known to hold
        // no control character) or checked now.
        let m = spare.pop();
        if (m === undefined) m = new Msg();
        else m.reset();
        if (readLineFast(line, collectedAt, journalSeen, m, datePrefix)) {
          const ts = m.textStart;
          const shape = m.shape !== SHAPE_NONE ? m.shape : shapeAt(line, ts);
          let v: Verdict | undefined;
          if (shape === SHAPE_CT_FULL) v = ctFullVerdict;
          else if (shape === SHAPE_RATELIMIT) {
            v = ratelimitVerdict;
            let n = 0;
            for (let i = ts + RATELIMIT_SHAPE_NUMBER, d = line.charCodeAt(i); d !== 0x20; d = line.charCodeAt(++i)) n = n * 10 + (d - 0x30);
            m.suppressedN = n;
          } else {
            const text = line.slice(ts);
            m.text = text;
            // LOG lines (`IN=` early) differ in every packet: no use looking them up.
            const inAt = text.indexOf("IN=");
            if ((inAt < 0 || inAt > 256) && text.length <= MAX_VERDICT_KEY) v = verdicts.get(text);
            if (v === undefined && BINARY.test(text)) v = BINARY_LINE;
          }
          if (v !== BINARY_LINE) {
            m.raw = line;
            m.line = lineNo;
            m.lastLine = lineNo;
            m.verdict = v;
            m.refs = 1;
            finish();
            building = m;
            return;
          }
        }
        spare.push(m);
      }
      pushSlow(line, lineNo);
    },

    end() {
      finish();
      flushFormatRun();
      attributor.end();
      verdicts.clear();
      interned.clear();
      keptLogPrefixes.clear();
      if (unparsedLines > 0) warn(`${unparsedLines} line(s) were not kernel log messages and were skipped`);
      if (warningsDropped > 0) warnings.push({ path, message: `${warningsDropped} more warning(s) not shown` });
      const classOut: Partial<Record<KlogClass, KlogClassTotals>> = {};
      for (const [cls, t] of classes) {
        const last = t.lastMsg ? occurrenceOf(t.lastMsg) : (t.last as Occurrence);
        classOut[cls] = { count: t.count, suppressed: t.suppressed, total: t.count + t.suppressed, kept: t.kept, first: t.first, last };
      }
      if (lastTimeMsg) lastTime = detach(timeOf(lastTimeMsg) ?? "");
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

/**
 * A collection time in December of year 9999: syslog lines then get year 9999 (no month is later
 * than December), a placeholder that settleSyslogYears replaces once the real time is known.
 */
const YEAR_LATER = new Date(Date.UTC(9999, 11, 31));
const PENDING_YEAR = "9999-";
export const YEARLESS_WARNING = "syslog time stamps have no year and the collection date is unknown: wall-clock times left out";

/**
 * Gives the syslog times of a log parsed with `yearLater` their year, inferred from `collectedAt`
 * as a parse after the collection time was known would have; without one, leaves them out with
 * the same warning. Idempotent.
 */
export function settleSyslogYears(result: ParseResult<KernelLogFacts>, collectedAt: Date | undefined): void {
  const v = result.value;
  let firstLeftOut: number | undefined;
  let leftOut = false;
  const settle = (time: string | undefined, line: number): string | undefined => {
    if (time === undefined || !time.startsWith(PENDING_YEAR)) return time;
    if (collectedAt) return String(inferYear(Number(time.slice(5, 7)) - 1, collectedAt)).padStart(4, "0") + time.slice(4);
    leftOut = true;
    if (line > 0 && (firstLeftOut === undefined || line < firstLeftOut)) firstLeftOut = line;
    return undefined;
  };
  const settleIn = (o: { time?: string }, line: number): void => {
    const t = settle(o.time, line);
    if (t === undefined) delete o.time;
    else o.time = t;
  };
  for (const m of v.messages) settleIn(m, m.provenance.line);
  for (const t of Object.values(v.classes)) {
    settleIn(t.first, t.first.provenance.line);
    settleIn(t.last, t.last.provenance.line);
  }
  const first = settle(v.firstTime, 0);
  if (first === undefined) delete v.firstTime;
  else v.firstTime = first;
  const last = settle(v.lastTime, 0);
  if (last === undefined) delete v.lastTime;
  else v.lastTime = last;
  if (leftOut && !result.warnings.some((w) => w.message === YEARLESS_WARNING)) {
    const path = v.messages[0]?.provenance.path ?? "";
    result.warnings.unshift(firstLeftOut ? { path, line: firstLeftOut, message: YEARLESS_WARNING } : { path, message: YEARLESS_WARNING });
  }
}
