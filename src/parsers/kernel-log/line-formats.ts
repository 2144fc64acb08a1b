/**
 * Recognises one physical line of a kernel log in any of the formats seen in bundles and splits
 * it into its prefix parts (time, uptime, host, program) and the message text.
 *
 * Real samples:
 *   [  267.087922] net_ratelimit: 6 callbacks suppressed                              (dmesg, 6.18 lab)
 *   <4>[  267.087928] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet   (dmesg -r)
 *   [Sun Nov 22 07:15:35 2026] net_ratelimit: 6 callbacks suppressed                 (dmesg -T)
 *   2026-11-22T07:15:35,285183+00:00 net_ratelimit: 6 callbacks suppressed           (dmesg --time-format iso)
 *   2026-11-22T07:15:44.439354+00:00 lab-host kernel: [  276.245095] x_tables: ...    (rsyslog default)
 *   Nov 22 07:15:44 lab-host kernel: [  276.245095] x_tables: ...                    (rsyslog traditional)
 *   Aug 13 14:46:52 ams-mid006.int.s-cloud.net kernel: [8623919.136122] nf_conntrack: table full, dropping packet.
 * Formats built from their documented shapes: journalctl -k short / short-iso / short-precise,
 * OpenWrt logread (`Sun Nov 22 06:42:24 2026 kern.warn kernel: [  123.400000] msg`).
 *
 * All regexes are anchored and start with fixed-width fields, so a line is rejected in a few steps.
 */

import { KNOWN_SHAPES, knownShapeAt } from "./classify.js";

export const KLOG_FORMATS = [
  "dmesg",
  "dmesg-ctime",
  "dmesg-iso",
  "syslog",
  "syslog-precise",
  "rfc3339",
  "journal-short",
  "journal-short-iso",
  "journal-short-precise",
  "logread",
  "bare",
] as const;
export type KlogFormat = (typeof KLOG_FORMATS)[number];

export interface ParsedLine {
  format: KlogFormat;
  text: string;
  /** Seconds since boot, from `[ 123.456789]`. */
  uptime?: number;
  /** ISO 8601; carries an offset only when the line does. */
  time?: string;
  host?: string;
  program?: string;
  pid?: number;
  /** Syslog priority 0–7 (from `<4>` or OpenWrt `kern.warn`). */
  level?: number;
  facility?: string;
  /** Syslog-style month/day/time whose year could not be inferred (no collection date). */
  yearUnknown?: boolean;
}

export type BootMarkerKind = "journal-boot" | "journal-reboot" | "journal-begin" | "uptime-reset";
export interface MarkerLine {
  kind: BootMarkerKind;
  id?: string;
  text: string;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LEVELS: Record<string, number> = { emerg: 0, alert: 1, crit: 2, err: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7 };

const UPTIME = /^\[ *(\d{1,10}\.\d{1,9})\] ?/;
const LEVEL_PREFIX = /^<(\d{1,3})>/;
const DMESG_CTIME = /^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d) (\d{4})\] ?/;
const DMESG_ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{1,9})([+-]\d\d:\d\d|Z) /;
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:?\d\d) (\S+) /;
const SYSLOG = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d)(\.\d{1,9})? (\S+) /;
const LOGREAD = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d) (\d{4}) ([a-z0-9]+)\.([a-z]+) /;
/** `prog[pid]: ` or `prog: ` after the host. Program names have no spaces, colons or brackets. */
const PROGRAM = /^([^\s:[\]]{1,128})(?:\[(\d{1,10})\])?: ?/;

const JOURNAL_BOOT = /^-- Boot ([0-9a-f]{32}) --$/;
const JOURNAL_BEGIN = /^-- (?:Logs begin at|Journal begins at) (.*) --$/;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Year of a month seen in a syslog line: a month later than the collection month is from the previous year. */
export function inferYear(monthIndex: number, collectedAt: Date): number {
  const y = collectedAt.getUTCFullYear();
  return monthIndex > collectedAt.getUTCMonth() ? y - 1 : y;
}

export function parseMarker(line: string): MarkerLine | undefined {
  if (!line.startsWith("-- ")) return undefined;
  const t = line.trimEnd();
  if (t === "-- Reboot --") return { kind: "journal-reboot", text: t };
  const b = JOURNAL_BOOT.exec(t);
  if (b) return { kind: "journal-boot", id: b[1], text: t };
  if (JOURNAL_BEGIN.test(t)) return { kind: "journal-begin", text: t };
  return undefined;
}

/** Splits `[ uptime] rest` off the message text of a syslog kernel line (also `<4>[ ...]`). */
function takeUptime(p: ParsedLine): void {
  let t = p.text;
  const lv = LEVEL_PREFIX.exec(t);
  if (lv) {
    p.level = Number(lv[1]) & 7;
    t = t.slice(lv[0].length);
  }
  if (t.startsWith("[")) {
    const u = UPTIME.exec(t);
    if (u) {
      p.uptime = Number(u[1]);
      t = t.slice(u[0].length);
    }
  }
  p.text = t;
}

function takeProgram(p: ParsedLine, rest: string): void {
  const m = PROGRAM.exec(rest);
  if (m) {
    p.program = m[1];
    if (m[2] !== undefined) p.pid = Number(m[2]);
    p.text = rest.slice(m[0].length);
    if (p.program === "kernel") takeUptime(p);
  } else {
    p.text = rest;
  }
}

function dateIso(y: number, mon: number, day: number, hms: string, frac = ""): string {
  return `${y}-${pad2(mon + 1)}-${pad2(day)}T${hms}${frac}`;
}

/**
 * Parses one line; `journal` tells whether a journal marker was seen earlier in the file (then
 * the month-day syslog shape is reported as journalctl output).
 */
export function parseLine(line: string, collectedAt: Date | undefined, journal: boolean): ParsedLine | undefined {
  const c0 = line.charCodeAt(0);
  // '<' or '[' : dmesg raw / -r / -T
  if (c0 === 0x3c || c0 === 0x5b) {
    let t = line;
    let level: number | undefined;
    if (c0 === 0x3c) {
      const lv = LEVEL_PREFIX.exec(t);
      if (!lv) return undefined;
      level = Number(lv[1]) & 7;
      t = t.slice(lv[0].length);
    }
    const u = UPTIME.exec(t);
    if (u) {
      const p: ParsedLine = { format: "dmesg", text: t.slice(u[0].length), uptime: Number(u[1]) };
      if (level !== undefined) p.level = level;
      return p;
    }
    const d = DMESG_CTIME.exec(t);
    if (d) {
      const mon = MONTHS.indexOf(d[1] ?? "");
      if (mon < 0) return undefined;
      const p: ParsedLine = { format: "dmesg-ctime", text: t.slice(d[0].length), time: dateIso(Number(d[4]), mon, Number(d[2]), d[3] ?? "") };
      if (level !== undefined) p.level = level;
      return p;
    }
    return undefined;
  }
  // digit: ISO-like stamps
  if (c0 >= 0x30 && c0 <= 0x39) {
    const di = DMESG_ISO.exec(line);
    if (di) return { format: "dmesg-iso", text: line.slice(di[0].length), time: `${di[1]}.${di[2]}${di[3]}` };
    const r = RFC3339.exec(line);
    if (r) {
      const off = r[3] ?? "";
      const colon = off === "Z" || off.includes(":");
      const p: ParsedLine = {
        format: colon ? "rfc3339" : "journal-short-iso",
        text: "",
        time: `${r[1]}${r[2] ?? ""}${colon ? off : `${off.slice(0, 3)}:${off.slice(3)}`}`,
        host: r[4],
      };
      takeProgram(p, line.slice(r[0].length));
      return p;
    }
    return undefined;
  }
  // capital letter: syslog month or OpenWrt weekday
  if (c0 >= 0x41 && c0 <= 0x5a) {
    const s = SYSLOG.exec(line);
    if (s) {
      const mon = MONTHS.indexOf(s[1] ?? "");
      if (mon >= 0) {
        const precise = s[4] !== undefined;
        const p: ParsedLine = {
          format: journal ? (precise ? "journal-short-precise" : "journal-short") : precise ? "syslog-precise" : "syslog",
          text: "",
          host: s[5],
        };
        if (collectedAt) p.time = dateIso(inferYear(mon, collectedAt), mon, Number(s[2]), s[3] ?? "", s[4] ?? "");
        else p.yearUnknown = true;
        takeProgram(p, line.slice(s[0].length));
        return p;
      }
    }
    const o = LOGREAD.exec(line);
    if (o) {
      const mon = MONTHS.indexOf(o[1] ?? "");
      if (mon < 0) return undefined;
      const p: ParsedLine = { format: "logread", text: "", time: dateIso(Number(o[4]), mon, Number(o[2]), o[3] ?? ""), facility: o[5] };
      const lv = LEVELS[o[6] ?? ""];
      if (lv !== undefined) p.level = lv;
      takeProgram(p, line.slice(o[0].length));
      return p;
    }
  }
  return undefined;
}

/** A line that starts like a timestamp but did not parse (a cut line): never a continuation. */
export function looksLikeBrokenStamp(line: string): boolean {
  return /^(?:<\d|\[ *\d|\[[A-Z][a-z]{2} |\d{4}-\d\d-|[A-Z][a-z]{2} {1,2}\d)/.test(line);
}

/*
 * Fast path: the common shapes (dmesg `[ uptime]` / `<N>[ uptime]`, RFC 3339 rsyslog, traditional
 * syslog) read into offsets, without regex captures or substrings: the time stamp and host are
 * checked by one capture-free sticky regex, the rest with charCodeAt. It gives exactly what
 * parseLine gives for the lines it accepts, and accepts only lines whose prefix is plain printable
 * ASCII (so the prefix holds no control character either); everything else (journal short-iso,
 * dmesg -T / iso, logread, non-ASCII or odd prefixes) is left to parseLine.
 */

/** Prefix parts of a line read by readLineFast, as offsets into the line. */
export interface FastLine {
  format: KlogFormat;
  /** The message text is line.slice(textStart). */
  textStart: number;
  uptime: number | undefined;
  level: number | undefined;
  /** When timeB > 0 the time is timePre + line.slice(timeA, timeB). */
  timePre: string;
  timeA: number;
  timeB: number;
  /** When hostB > 0 the host is line.slice(hostA, hostB). */
  hostA: number;
  hostB: number;
  /** When progB > 0 the program is line.slice(progA, progB). */
  progA: number;
  progB: number;
  /** The program is `kernel`. */
  progKernel: boolean;
  pid: number | undefined;
  yearUnknown: boolean;
  /** SHAPE_* of the text when the prefix regex already matched it (else SHAPE_NONE). */
  shape: number;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
/** Printable ASCII but space: a character of `\S` that is not a control character. */
const isGraph = (c: number): boolean => c > 0x20 && c < 0x7f;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/**
 * RFC3339 up to the host with a `Z` or `+hh:mm` offset (`+hhmm`, journalctl short-iso, is
 * rewritten by parseLine) and a plain-ASCII host; the match ends after the space after the host.
 * Same groups as RFC3339 on the lines it matches: the fraction and host runs are maximal.
 */
const RFC3339_HEAD = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) [!-~]+ /y;
/** SYSLOG with a plain-ASCII host (month name checked apart). */
const SYSLOG_HEAD = /[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})? [!-~]+ /y;
/**
 * The same heads followed by `kernel: [ uptime] ` and a text of a known shape (classify.ts), the
 * bulk of netfilter logs, in one regex: the host is the run up to the first space after the time
 * stamp, PROGRAM reads `kernel` and its space, takeUptime finds no level and reads the uptime
 * (with its space: no shape starts with one), and the text is the rest.
 */
const KERNEL_SHAPED = String.raw` [!-~]+ kernel: \[ *\d{1,10}\.\d{1,9}\] ?${KNOWN_SHAPES}`;
const RFC3339_KERNEL_SHAPED = new RegExp(String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)${KERNEL_SHAPED}`, "y");
const SYSLOG_KERNEL_SHAPED = new RegExp(String.raw`[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(?:\.\d{1,9})?${KERNEL_SHAPED}`, "y");

/**
 * UPTIME (`\[ *(\d{1,10}\.\d{1,9})\] ?`) at i: sets the uptime and returns the offset after it, or
 * -1. Up to 15 digits the digits form an exact integer and one division by an exact power of ten
 * rounds correctly, which is what Number() gives.
 */
function uptimeAt(line: string, i: number, out: FastLine): number {
  if (line.charCodeAt(i) !== 0x5b) return -1;
  let j = i + 1;
  let c = line.charCodeAt(j);
  while (c === 0x20) c = line.charCodeAt(++j);
  const a = j;
  let n = 0;
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = line.charCodeAt(++j);
  }
  const dot = j;
  if (dot === a || dot - a > 10 || c !== 0x2e) return -1;
  c = line.charCodeAt(++j);
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = line.charCodeAt(++j);
  }
  const frac = j - dot - 1;
  if (frac === 0 || frac > 9 || c !== 0x5d) return -1;
  out.uptime = dot - a + frac > 15 ? Number(line.slice(a, j)) : n / (POW10[frac] as number);
  return line.charCodeAt(j + 1) === 0x20 ? j + 2 : j + 1;
}

/** Digits [a, b) (at most 10) as a number. */
function intAt(line: string, a: number, b: number): number {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (line.charCodeAt(i) - 0x30);
  return n;
}

/** LEVEL_PREFIX (`<(\d{1,3})>`) at i: the offset after it, or -1. */
function levelAt(line: string, i: number, out: FastLine): number {
  if (line.charCodeAt(i) !== 0x3c) return -1;
  let j = i + 1;
  while (j - i <= 3 && isDigit(line.charCodeAt(j))) j++;
  if (j === i + 1 || line.charCodeAt(j) !== 0x3e) return -1;
  out.level = intAt(line, i + 1, j) & 7;
  return j + 1;
}

/**
 * takeProgram (then takeUptime for `kernel`) on line.slice(s). False when a character there is
 * one the fast path does not judge (control, DEL, non-ASCII): the caller falls back to parseLine.
 */
function programAt(line: string, s: number, out: FastLine): boolean {
  const len = line.length;
  let j = s;
  let c = 0;
  for (; j < len; j++) {
    c = line.charCodeAt(j);
    if (!isGraph(c) || c === 0x3a || c === 0x5b || c === 0x5d) break;
  }
  let end = -1;
  if (j < len) {
    if (c !== 0x20 && !isGraph(c)) return false;
    if (j > s && j - s <= 128) {
      if (c === 0x3a) end = j + 1;
      else if (c === 0x5b) {
        let d = j + 1;
        while (d - j <= 10 && isDigit(line.charCodeAt(d))) d++;
        if (d > j + 1 && line.charCodeAt(d) === 0x5d && line.charCodeAt(d + 1) === 0x3a) {
          out.pid = intAt(line, j + 1, d);
          end = d + 2;
        }
      }
    }
  }
  if (end < 0) {
    out.textStart = s;
    return true;
  }
  out.progA = s;
  out.progB = j;
  if (line.charCodeAt(end) === 0x20) end++;
  out.textStart = end;
  if (j - s === 6 && line.startsWith("kernel", s)) {
    out.progKernel = true;
    const afterLevel = levelAt(line, end, out);
    if (afterLevel >= 0) end = afterLevel;
    const afterUptime = uptimeAt(line, end, out);
    out.textStart = afterUptime >= 0 ? afterUptime : end;
  }
  return true;
}

/** The host, program `kernel`, uptime and shape of a line matched by a *_KERNEL_SHAPED regex whose host starts at `hostA`. */
function kernelLine(line: string, hostA: number, out: FastLine): boolean {
  const hostB = line.indexOf(" ", hostA);
  out.hostA = hostA;
  out.hostB = hostB;
  out.progA = hostB + 1;
  out.progB = hostB + 7;
  out.progKernel = true;
  const t = uptimeAt(line, hostB + 9, out);
  out.textStart = t;
  out.shape = knownShapeAt(line, t);
  return true;
}

/** `2026-11-22T07:15:44.439354+00:00 host prog: ` (the rsyslog default). */
function readRfc3339(line: string, out: FastLine): boolean {
  RFC3339_KERNEL_SHAPED.lastIndex = 0;
  if (RFC3339_KERNEL_SHAPED.test(line)) {
    const sp = line.indexOf(" ");
    out.format = "rfc3339";
    out.timeA = 0;
    out.timeB = sp;
    return kernelLine(line, sp + 1, out);
  }
  RFC3339_HEAD.lastIndex = 0;
  if (!RFC3339_HEAD.test(line)) return false;
  const rest = RFC3339_HEAD.lastIndex;
  // The time stamp has no space: it ends at the first one.
  const sp = line.indexOf(" ");
  out.format = "rfc3339";
  out.timeA = 0;
  out.timeB = sp;
  out.hostA = sp + 1;
  out.hostB = rest - 1;
  return programAt(line, rest, out);
}

const MONTH_CODES = MONTHS.map((m) => (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2));

/** `Nov 22 07:15:44[.frac] host prog: ` */
function readSyslog(line: string, collectedAt: Date | undefined, journal: boolean, out: FastLine, datePrefix: (mon: number, day: number) => string): boolean {
  SYSLOG_KERNEL_SHAPED.lastIndex = 0;
  const shaped = SYSLOG_KERNEL_SHAPED.test(line);
  if (!shaped) {
    SYSLOG_HEAD.lastIndex = 0;
    if (!SYSLOG_HEAD.test(line)) return false;
  }
  const mon = MONTH_CODES.indexOf((line.charCodeAt(0) << 16) | (line.charCodeAt(1) << 8) | line.charCodeAt(2));
  if (mon < 0) return false;
  const d = line.charCodeAt(4) === 0x20 ? 5 : 4;
  const hms = isDigit(line.charCodeAt(d + 1)) ? d + 3 : d + 2;
  // hh:mm:ss[.frac] has no space: it ends at the next one.
  const sp = line.indexOf(" ", hms);
  out.format = journal ? (sp > hms + 8 ? "journal-short-precise" : "journal-short") : sp > hms + 8 ? "syslog-precise" : "syslog";
  if (collectedAt) {
    out.timePre = datePrefix(mon, intAt(line, d, hms - 1));
    out.timeA = hms;
    out.timeB = sp;
  } else out.yearUnknown = true;
  if (shaped) return kernelLine(line, sp + 1, out);
  const rest = SYSLOG_HEAD.lastIndex;
  out.hostA = sp + 1;
  out.hostB = rest - 1;
  return programAt(line, rest, out);
}

/** `YYYY-MM-DDT` of a syslog month and day (year inferred from collectedAt), memoised per parser. */
export function syslogDatePrefixes(collectedAt: Date | undefined): (mon: number, day: number) => string {
  const memo: string[] = [];
  return (mon, day) => {
    const k = mon * 100 + day;
    let s = memo[k];
    if (s === undefined) {
      s = collectedAt ? dateIso(inferYear(mon, collectedAt), mon, day, "") : "";
      memo[k] = s;
    }
    return s;
  };
}

/**
 * parseLine for the common shapes, into `out` (fresh: every optional part unset). False: the line
 * is not one of them, and parseLine must read it (it may still be a message).
 */
export function readLineFast(line: string, collectedAt: Date | undefined, journal: boolean, out: FastLine, datePrefix: (mon: number, day: number) => string): boolean {
  const c0 = line.charCodeAt(0);
  if (c0 >= 0x30 && c0 <= 0x39) return readRfc3339(line, out);
  if (c0 === 0x5b || c0 === 0x3c) {
    let i = 0;
    if (c0 === 0x3c) {
      i = levelAt(line, 0, out);
      if (i < 0) return false;
    }
    const t = uptimeAt(line, i, out);
    if (t < 0) return false;
    out.format = "dmesg";
    out.textStart = t;
    return true;
  }
  if (c0 >= 0x41 && c0 <= 0x5a) return readSyslog(line, collectedAt, journal, out, datePrefix);
  return false;
}
