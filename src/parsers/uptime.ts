/**
 * How long the system had been up: /proc/uptime (sos: `proc/uptime`) or the `uptime` command
 * (sos: `sos_commands/host/uptime`), also `uptime -p` and `uptime -s`.
 *
 * Real samples (this lab, procps-ng 4.0.2):
 *   226.26 377.15
 *    07:14:54 up 3 min,  0 user,  load average: 0.46, 0.33, 0.14
 * Other procps forms: `up 3 days,  2:01,`, `up 1 day, 5 min,`, `up 2:01,`; `uptime -p`: `up 3 days, 2 hours, 1 minute`;
 * `uptime -s`: `2026-11-22 07:11:06` (local time).
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { oneLineParser, provenanceSchema } from "./sys-util.js";

export const schema = z.object({
  form: z.enum(["proc", "command", "pretty", "since", "none"]),
  uptimeSeconds: z.number().nullable(),
  idleSeconds: z.number().nullable(),
  /** Wall clock printed by `uptime` (local time, no date). */
  clock: z.string().nullable(),
  users: z.number().int().nullable(),
  loadAverage: z.array(z.number()).nullable(),
  /** `uptime -s`: boot time as local date-time text (no zone). */
  since: z.string().nullable(),
  provenance: provenanceSchema.nullable(),
});
export type Uptime = z.infer<typeof schema>;

const NONE: Uptime = { form: "none", uptimeSeconds: null, idleSeconds: null, clock: null, users: null, loadAverage: null, since: null, provenance: null };

const PROC = /^(\d{1,12}(?:\.\d{1,3})?) (\d{1,14}(?:\.\d{1,3})?)$/;
const CLOCK = /^(\d{1,2}:\d{2}(?::\d{2})?)\s{1,3}up\s/;
const SINCE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})$/;
const UNIT_SECONDS: Record<string, number> = {
  year: 31_536_000, years: 31_536_000, week: 604_800, weeks: 604_800, day: 86_400, days: 86_400,
  hour: 3600, hours: 3600, minute: 60, minutes: 60, min: 60, mins: 60, sec: 1, secs: 1, second: 1, seconds: 1,
};

/** Sums the comma-separated duration parts after "up": `3 days`, ` 2:01`, `5 min`. Null if any part is unknown. */
function durationOf(parts: string[]): number | null {
  let total = 0;
  for (const raw of parts) {
    const p = raw.trim();
    const hm = /^(\d{1,2}):(\d{2})$/.exec(p);
    if (hm?.[1] !== undefined && hm[2] !== undefined) {
      total += Number(hm[1]) * 3600 + Number(hm[2]) * 60;
      continue;
    }
    const nu = /^(\d{1,6}) ([a-z]{1,8})$/.exec(p);
    const secs = nu?.[2] === undefined ? undefined : UNIT_SECONDS[nu[2]];
    if (nu?.[1] === undefined || secs === undefined) return null;
    total += Number(nu[1]) * secs;
  }
  return total;
}

export function parseUptimeLine(text: string): Omit<Uptime, "provenance"> | null {
  const proc = PROC.exec(text);
  if (proc?.[1] !== undefined && proc[2] !== undefined) {
    return { ...NONE, form: "proc", uptimeSeconds: Number(proc[1]), idleSeconds: Number(proc[2]) };
  }
  const since = SINCE.exec(text);
  if (since?.[1] !== undefined) return { ...NONE, form: "since", since: since[1] };
  if (text.startsWith("up ")) {
    const d = durationOf(text.slice(3).split(","));
    return d === null ? null : { ...NONE, form: "pretty", uptimeSeconds: d };
  }
  const clock = CLOCK.exec(text);
  if (clock?.[1] === undefined) return null;
  const afterUp = text.slice(clock[0].length);
  const parts = afterUp.split(",");
  const durationParts: string[] = [];
  let users: number | null = null;
  let loadAverage: number[] | null = null;
  for (let i = 0; i < parts.length; i++) {
    const p = (parts[i] ?? "").trim();
    const um = /^(\d{1,6}) users?$/.exec(p);
    if (um?.[1] !== undefined) {
      users = Number(um[1]);
      continue;
    }
    if (p.startsWith("load average:")) {
      const nums = [p.slice("load average:".length), ...parts.slice(i + 1)].map((s) => Number(s.trim()));
      loadAverage = nums.every((n) => Number.isFinite(n)) && nums.length === 3 ? nums : null;
      break;
    }
    if (users === null) durationParts.push(p);
  }
  const uptimeSeconds = durationParts.length === 0 ? null : durationOf(durationParts);
  return { ...NONE, form: "command", clock: clock[1], uptimeSeconds, users, loadAverage };
}

export const create: ParserFactory<Uptime> = oneLineParser<Uptime>("uptime", NONE, parseUptimeLine, (parsed) =>
  parsed.form === "command" && (parsed.uptimeSeconds === null || parsed.loadAverage === null) ? "incomplete uptime line (truncated?)" : null,
);
