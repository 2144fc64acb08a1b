/**
 * One kernel log out of every log file of a bundle. dmesg, kern.log/syslog/messages and the
 * journal hold many of the same lines: each message is kept once, and the result is in time order.
 *
 * Cost: a 1 GB bundle brings ~50,000 kept messages (125,000 before the parser kept 2,000 per
 * class). Each message's wall time is parsed once and its text looked up once (a text id);
 * everything else works on numbers in typed arrays indexed by the message's position, and the
 * result hands those numbers on (the timeline reuses them).
 */
import type { KlogClass, KlogMessage } from "../parsers/kernel-log.js";
import { parseIsoTime } from "./iso-time.js";

/** A kernel-log message with the source that held it and, when derivable, its wall-clock time. */
export type KernelEvent = KlogMessage & {
  sourceId: string;
  /** ISO time: the line's own, or boot time + uptime (derived). */
  wallTime?: string;
  timeQuality: "exact" | "derived" | "inferred" | "unknown";
};

/** The parsed messages of one log source (dmesg, kernel-log, journal), in the order read. */
export interface KernelLogInput {
  sourceId: string;
  messages: KlogMessage[];
}

export interface MergedKernelLog {
  events: KernelEvent[];
  /** Wall-clock time of events[i] in ms since the epoch: Date.parse(wallTime), NaN without one. */
  wallMs: Float64Array;
  /** events[i]'s text as a number: equal texts have equal ids, 0 … textCount − 1. */
  textIds: Int32Array;
  textCount: number;
}

const LOG_PRIORITY: Record<string, number> = { dmesg: 0, "kernel-log": 1, journal: 2 };
const priorityOf = (sourceId: string): number => LOG_PRIORITY[sourceId] ?? 9;

/** A wall time's own offset makes it exact: `Z`, `+01:00` or `+0100` at the end. */
export function endsWithZone(time: string): boolean {
  const n = time.length;
  if (time.charCodeAt(n - 1) === 90 /* Z */) return true;
  const digit = (i: number): boolean => {
    const c = time.charCodeAt(i);
    return c >= 48 && c <= 57;
  };
  const sign = (i: number): boolean => {
    const c = time.charCodeAt(i);
    return c === 43 /* + */ || c === 45 /* - */;
  };
  if (n < 5 || !digit(n - 1) || !digit(n - 2)) return false;
  if (sign(n - 5) && digit(n - 4) && digit(n - 3)) return true; // ±hhmm
  return n >= 6 && time.charCodeAt(n - 3) === 58 /* : */ && digit(n - 4) && digit(n - 5) && sign(n - 6); // ±hh:mm
}

/** Every message of every file, numbered in merge order (files by priority, then as read). */
interface Numbered {
  events: KernelEvent[];
  /** events[fileStarts[f]] is the first message of file f; the last entry is events.length. */
  fileStarts: number[];
  hasWall: Uint8Array;
  wall: Float64Array;
}

/**
 * Gives a message its source, wall time and time quality, and returns the wall time in ms (NaN
 * without one). The parsed message itself gains the fields: copying 100,000s of messages doubled
 * the kernel log's memory; Facts owns the parsed values and nothing reads them as JSON.
 */
function stamp(m: KlogMessage, sourceId: string, bootMs: number | undefined): number {
  const e = m as KernelEvent;
  e.sourceId = sourceId;
  const time = m.time;
  if (time) {
    e.timeQuality = m.format !== "syslog" && m.format !== "journal-short" && endsWithZone(time) ? "exact" : "inferred";
    e.wallTime = time;
    return parseIsoTime(time);
  }
  if (m.uptime !== undefined && bootMs !== undefined) {
    const d = new Date(bootMs + m.uptime * 1000);
    e.timeQuality = "derived";
    e.wallTime = d.toISOString();
    return d.getTime(); // = Date.parse(toISOString()): the ISO form keeps every millisecond
  }
  e.timeQuality = "unknown";
  return Number.NaN;
}

/** Stamps every message, then numbers them file by file (a file: one path), files in priority order. */
function numberMessages(inputs: readonly KernelLogInput[], bootMs: number | undefined): Numbered {
  /** Wall times are NaN when absent (or unreadable: then `timed` tells them apart). */
  type File = { priority: number; events: KernelEvent[]; wall: number[]; timed: number[] };
  const files = new Map<string, File>();
  let total = 0;
  for (const { sourceId, messages } of inputs) {
    let file: File | undefined;
    let filePath: string | undefined;
    for (const m of messages) {
      const ms = stamp(m, sourceId, bootMs);
      const path = m.provenance.path;
      if (path !== filePath || file === undefined) {
        filePath = path;
        file = files.get(path);
        if (!file) files.set(path, (file = { priority: priorityOf(sourceId), events: [], wall: [], timed: [] }));
      }
      file.events.push(m as KernelEvent);
      file.wall.push(ms);
      file.timed.push((m as KernelEvent).timeQuality === "unknown" ? 0 : 1);
      total++;
    }
  }
  // A file's priority is that of its first message's source (stable: equal priorities keep their order).
  const ordered = [...files.values()].sort((a, b) => a.priority - b.priority);
  const events: KernelEvent[] = new Array(total);
  const hasWall = new Uint8Array(total);
  const wall = new Float64Array(total);
  const fileStarts: number[] = [];
  let g = 0;
  for (const f of ordered) {
    fileStarts.push(g);
    for (let i = 0; i < f.events.length; i++, g++) {
      events[g] = f.events[i] as KernelEvent;
      hasWall[g] = f.timed[i] as number;
      wall[g] = f.wall[i] as number;
    }
  }
  fileStarts.push(g);
  return { events, fileStarts, hasWall, wall };
}

/** Copies of one text and class in earlier files that a message of the current file can still match. */
interface EarlierCopies {
  /** Uptime in whole microseconds (as dmesg prints it) → copies left. */
  uptimes: Map<number, number>;
  /** Wall times (ms) of the copies with one; made when a message without uptime first needs them. */
  wallMs: number[] | undefined;
}

interface TextState {
  id: number;
  /** Kept messages with this text (indexes), file by file; the last file's are not needed. */
  kept: number[];
  /** The file `copies` was made for, and how many of `kept` came before that file. */
  file: number;
  earlierCount: number;
  copies: Map<KlogClass, EarlierCopies> | undefined;
}

/**
 * The same message seen in several log files (dmesg, kern.log, syslog, the journal) counts once.
 * Files are taken in priority order (dmesg, then syslog files, then the journal); a message of a
 * later file is a copy when an earlier file holds one with the same class and text and the same
 * uptime, or, without uptime, a wall time within 2 s. Each earlier message absorbs one copy per
 * file, so genuine repeats inside one file are all kept.
 */
function removeCopies(n: Numbered, textIds: Int32Array): { kept: number[]; textCount: number } {
  const { events, fileStarts } = n;
  const texts = new Map<string, TextState>();
  const kept: number[] = [];
  const lastFile = fileStarts.length - 2;
  for (let f = 0; f <= lastFile; f++) {
    for (let g = fileStarts[f] as number, end = fileStarts[f + 1] as number; g < end; g++) {
      const m = events[g] as KernelEvent;
      let t = texts.get(m.text);
      if (t === undefined) texts.set(m.text, (t = { id: texts.size, kept: [], file: f, earlierCount: 0, copies: undefined }));
      else if (t.file !== f) {
        t.file = f;
        t.earlierCount = t.kept.length;
        t.copies = undefined;
      }
      textIds[g] = t.id;
      if (t.earlierCount > 0 && absorbCopy(n, t, g)) continue;
      kept.push(g);
      if (f !== lastFile) t.kept.push(g);
    }
  }
  return { kept, textCount: texts.size };
}

/** Message g is a copy of an earlier file's message: that one absorbs it (true), or none can (false). */
function absorbCopy(n: Numbered, t: TextState, g: number): boolean {
  const m = n.events[g] as KernelEvent;
  let copies = t.copies?.get(m.class);
  if (copies === undefined) (t.copies ??= new Map()).set(m.class, (copies = earlierCopies(n, t, m.class)));
  if (m.uptime !== undefined) {
    const micros = Math.round(m.uptime * 1e6);
    const left = copies.uptimes.get(micros) ?? 0;
    if (left === 0) return false;
    copies.uptimes.set(micros, left - 1);
    return true;
  }
  if (!n.hasWall[g]) return false;
  const ms = (copies.wallMs ??= earlierWallMs(n, t, m.class));
  const at = wallNear(ms, n.wall[g] as number);
  if (at < 0) return false;
  ms.splice(at, 1);
  return true;
}

function earlierCopies(n: Numbered, t: TextState, cls: KlogClass): EarlierCopies {
  const uptimes = new Map<number, number>();
  for (let i = 0; i < t.earlierCount; i++) {
    const e = n.events[t.kept[i] as number] as KernelEvent;
    if (e.class !== cls || e.uptime === undefined) continue;
    const micros = Math.round(e.uptime * 1e6);
    uptimes.set(micros, (uptimes.get(micros) ?? 0) + 1);
  }
  return { uptimes, wallMs: undefined };
}

function earlierWallMs(n: Numbered, t: TextState, cls: KlogClass): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.earlierCount; i++) {
    const g = t.kept[i] as number;
    if ((n.events[g] as KernelEvent).class === cls && n.hasWall[g]) out.push(n.wall[g] as number);
  }
  return out;
}

/** The first time within 2 s of `t`, or −1. */
function wallNear(ms: readonly number[], t: number): number {
  for (let i = 0; i < ms.length; i++) if (Math.abs((ms[i] as number) - t) <= 2000) return i;
  return -1;
}

/**
 * Stable sort by wall time, else uptime or line within one source, else log priority. Every key
 * is read once into typed arrays: the comparisons and the result are those of comparing the
 * events themselves.
 */
function sortByTime(n: Numbered, kept: number[]): void {
  const { events, hasWall, wall } = n;
  const size = events.length;
  const uptime = new Float64Array(size);
  const hasUptime = new Uint8Array(size);
  const line = new Float64Array(size);
  const priority = new Float64Array(size);
  const source = new Int32Array(size);
  const sourceCodes = new Map<string, number>();
  for (const g of kept) {
    const e = events[g] as KernelEvent;
    if (e.uptime !== undefined) {
      hasUptime[g] = 1;
      uptime[g] = e.uptime;
    }
    line[g] = e.provenance.line;
    priority[g] = priorityOf(e.sourceId);
    let code = sourceCodes.get(e.sourceId);
    if (code === undefined) sourceCodes.set(e.sourceId, (code = sourceCodes.size));
    source[g] = code;
  }
  kept.sort((a, b) => {
    if (hasWall[a] && hasWall[b]) {
      // Within a boot, uptime orders better than wall times of mixed quality (a derived dmesg time
      // vs the moment rsyslog stamped the same line).
      const dw = (wall[a] as number) - (wall[b] as number);
      if (hasUptime[a] && hasUptime[b] && Math.abs(dw) < 120_000) return (uptime[a] as number) - (uptime[b] as number) || dw;
      return dw;
    }
    const same = source[a] === source[b];
    if (hasUptime[a] && hasUptime[b] && same) return (uptime[a] as number) - (uptime[b] as number);
    if (same) return (line[a] as number) - (line[b] as number);
    return (priority[a] as number) - (priority[b] as number);
  });
}

/** All kept messages of every log source, merged in time order, duplicates removed. */
export function mergeKernelLogs(inputs: readonly KernelLogInput[], bootMs: number | undefined): MergedKernelLog {
  const numbered = numberMessages(inputs, bootMs);
  const allTextIds = new Int32Array(numbered.events.length);
  const { kept, textCount } = removeCopies(numbered, allTextIds);
  sortByTime(numbered, kept);
  const events: KernelEvent[] = new Array(kept.length);
  const wallMs = new Float64Array(kept.length);
  const textIds = new Int32Array(kept.length);
  for (let i = 0; i < kept.length; i++) {
    const g = kept[i] as number;
    events[i] = numbered.events[g] as KernelEvent;
    wallMs[i] = numbered.hasWall[g] ? (numbered.wall[g] as number) : Number.NaN;
    textIds[i] = allTextIds[g] as number;
  }
  return { events, wallMs, textIds, textCount };
}
