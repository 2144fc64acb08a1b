/**
 * Wall-clock time at collection: `date`, `date -u`, `date +%s`, ISO forms (`date -Is`, hwclock),
 * `timedatectl` "Universal time:" lines, and the files of sos's date plugin
 * (`sos_commands/date/date`, `date_--utc`, `hwclock`). Each line becomes an instant when its zone
 * is known; an ambiguous abbreviation (CST, IST, BST …) keeps the local time and no instant.
 *
 * Real samples (this lab, coreutils 9.1, C locale):
 *   Sun Nov 22 07:14:54 UTC 2026
 *   1795331694
 * Locale forms: `Sun 22 Nov 2026 06:42:24 AM UTC` (en_US), `Sun 22 Nov 06:42:24 UTC 2026` (en_GB);
 * hwclock ≥ 2.32: `2026-11-22 06:42:23.511047+00:00`; old hwclock: `Sun 22 Nov 2026 06:42:24 AM UTC  -0.703125 seconds`.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, fields, parseUInt, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const readingSchema = z.object({
  kind: z.enum(["date", "epoch", "iso", "timedatectl"]),
  /** ISO instant (UTC, `Z`), null when the zone is unknown or ambiguous. */
  instant: z.string().nullable(),
  /** Local date-time as printed, `YYYY-MM-DDTHH:MM:SS` (no zone). */
  localTime: z.string().nullable(),
  zone: z.string().nullable(),
  offsetMinutes: z.number().int().nullable(),
  raw: z.string(),
  provenance: provenanceSchema,
});

export const schema = z.object({
  readings: z.array(readingSchema),
  /** First reading with a known instant. */
  instant: z.string().nullable(),
});
export type DateReading = z.infer<typeof readingSchema>;
export type DateFacts = z.infer<typeof schema>;

const MONTHS: Record<string, number> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };
const DAYS = new Set(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);

/** Unambiguous zone abbreviations (minutes east of UTC). CST/IST/BST/AST… are ambiguous and left out on purpose. */
export const ZONE_OFFSETS: Record<string, number> = {
  UTC: 0, GMT: 0, UT: 0, Z: 0, WET: 0, WEST: 60, CET: 60, CEST: 120, MET: 60, MEST: 120, EET: 120, EEST: 180,
  MSK: 180, EST: -300, EDT: -240, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420, AKST: -540, AKDT: -480,
  HST: -600, NZST: 720, NZDT: 780, AEST: 600, AEDT: 660, ACST: 570, ACDT: 630, AWST: 480, JST: 540, KST: 540,
  HKT: 480, SGT: 480, PHT: 480, WIB: 420, SAST: 120, NST: -210, NDT: -150,
};
export const AMBIGUOUS_ZONES = new Set(["CST", "IST", "BST", "AST", "ADT", "ECT", "GST", "SST", "PKT"]);

/** `UTC`, `CEST`, `+03`, `-0330`, `+05:30` → minutes east of UTC; null when unknown or ambiguous. */
export function zoneOffset(zone: string): number | null {
  const known = ZONE_OFFSETS[zone];
  if (known !== undefined) return known;
  const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(zone);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? "0");
  return m[1] === "-" ? -mins : mins;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

function toInstant(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string, offset: number | null): string | null {
  if (offset === null) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000;
  if (!Number.isFinite(ms)) return null;
  const iso = new Date(ms).toISOString();
  const fracMs = frac === "" ? "" : frac.slice(0, 3).padEnd(3, "0");
  return fracMs === "" ? iso.replace(".000Z", "Z") : iso.replace(".000Z", `.${fracMs}Z`);
}

type Parsed = Omit<DateReading, "provenance" | "raw">;

function fromParts(y: number, mo: number, d: number, time: string, ampm: string | null, zone: string | null): Parsed | null {
  const t = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(time);
  if (t?.[1] === undefined || t[2] === undefined || t[3] === undefined) return null;
  let h = Number(t[1]);
  if (ampm === "PM" && h < 12) h += 12;
  if (ampm === "AM" && h === 12) h = 0;
  const mi = Number(t[2]);
  const s = Number(t[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const offset = zone === null ? null : zoneOffset(zone);
  const localTime = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}`;
  return { kind: "date", instant: toInstant(y, mo, d, h, mi, s, t[4] ?? "", offset), localTime, zone, offsetMinutes: offset };
}

/** `date`-style lines in C, en_US and en_GB layouts (weekday optional, zone optional). */
function parseDateWords(text: string): Parsed | null {
  let f = fields(text);
  if (f[0] !== undefined && DAYS.has(f[0].replace(",", ""))) f = f.slice(1);
  // C: Nov 22 07:14:54 UTC 2026 | en_US: 22 Nov 2026 06:42:24 AM UTC | en_GB: 22 Nov 06:42:24 UTC 2026
  let mo: number | undefined;
  let d: number | null = null;
  let rest: string[];
  if (f[0] !== undefined && MONTHS[f[0]] !== undefined) {
    mo = MONTHS[f[0]];
    d = parseUInt(f[1] ?? "");
    rest = f.slice(2);
  } else if (f[1] !== undefined && MONTHS[f[1]] !== undefined) {
    mo = MONTHS[f[1]];
    d = parseUInt(f[0] ?? "");
    rest = f.slice(2);
  } else return null;
  if (mo === undefined || d === null) return null;
  let year: number | null = null;
  let time: string | null = null;
  let ampm: string | null = null;
  let zone: string | null = null;
  for (const w of rest) {
    if (time === null && w.includes(":") && /^\d/.test(w)) time = w;
    else if (year === null && /^\d{4}$/.test(w)) year = Number(w);
    else if (w === "AM" || w === "PM") ampm = w;
    else if (zone === null && /^([A-Z]{1,6}|[+-]\d{2}(?::?\d{2})?)$/.test(w)) zone = w;
    else if (/^[+-]?\d+\.\d+$/.test(w) || w === "seconds") continue; // old hwclock drift
    else return null;
  }
  if (year === null || time === null) return null;
  return fromParts(year, mo, d, time, ampm, zone);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?)(?:\s?(Z|[+-]\d{2}(?::?\d{2})?|[A-Z]{2,5}))?$/;

export function parseDateLine(text: string): Parsed | null {
  if (/^\d{9,11}$/.test(text)) {
    const n = Number(text);
    return { kind: "epoch", instant: new Date(n * 1000).toISOString().replace(".000Z", "Z"), localTime: null, zone: "UTC", offsetMinutes: 0 };
  }
  const tdc = /^(Universal time|Local time|RTC time): (.*)$/.exec(text);
  if (tdc?.[1] !== undefined && tdc[2] !== undefined) {
    // timedatectl: "Universal time: Sun 2026-11-22 06:42:24 UTC"
    const body = fields(tdc[2]);
    if (body.length >= 3 && DAYS.has(body[0] ?? "")) body.shift();
    const p = parseDateLine(body.join(" "));
    if (p === null) return null;
    return { ...p, kind: "timedatectl" };
  }
  const iso = ISO.exec(text);
  if (iso?.[1] !== undefined && iso[2] !== undefined && iso[3] !== undefined && iso[4] !== undefined) {
    const p = fromParts(Number(iso[1]), Number(iso[2]), Number(iso[3]), iso[4].replace(",", "."), null, iso[5] ?? null);
    return p === null ? null : { ...p, kind: "iso" };
  }
  return parseDateWords(text);
}

export const create: ParserFactory<DateFacts> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const readings: DateReading[] = [];
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      const p = parseDateLine(text);
      if (p === null) {
        warnings.add(lineNo, `line ${lineNo}: not a date`);
        return;
      }
      if (p.instant === null) {
        warnings.add(
          lineNo,
          p.zone === null
            ? `line ${lineNo}: no time zone: local time only`
            : `line ${lineNo}: time zone "${p.zone}" is ${AMBIGUOUS_ZONES.has(p.zone) ? "ambiguous" : "unknown"}: local time only`,
        );
      }
      if (readings.length < 1000) readings.push({ ...p, raw: text, provenance: prov(ctx, lineNo) });
    },
    end() {
      const first = readings.find((r) => r.instant !== null);
      return { value: { readings, instant: first?.instant ?? null }, warnings: warnings.done() };
    },
  };
};
