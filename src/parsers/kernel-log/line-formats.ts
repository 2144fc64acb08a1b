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
