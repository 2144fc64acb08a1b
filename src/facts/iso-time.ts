/**
 * Date.parse for the ISO times kernel logs carry, read digit by digit: Date.parse costs a few
 * hundred nanoseconds a call and a big bundle has 100,000s of stamped messages.
 */

const DIGIT_0 = 48;

/** The two digits at `at` as a number, or −1. */
function twoDigits(s: string, at: number): number {
  const a = s.charCodeAt(at) - DIGIT_0;
  const b = s.charCodeAt(at + 1) - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isDigit(s: string, at: number): boolean {
  const c = s.charCodeAt(at);
  return c >= DIGIT_0 && c <= DIGIT_0 + 9;
}

/**
 * Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`, exactly as
 * Date.parse reads it (the fraction cut to milliseconds). Any other shape, a time without a zone
 * (local time) or a field out of its everyday range goes to Date.parse itself.
 */
export function parseIsoTime(s: string): number {
  const fast = readIsoUtc(s);
  return Number.isNaN(fast) ? Date.parse(s) : fast;
}

/** The time, or NaN when Date.parse has to read it. */
function readIsoUtc(s: string): number {
  const n = s.length;
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Number.NaN;
  const century = twoDigits(s, 0);
  const yearOfCentury = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  // Date.UTC reads years 0–99 as 19xx; Date.parse rolls day 29–31 over into the next month.
  if (century < 1 || yearOfCentury < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Number.NaN;
  let at = 19;
  let ms = 0;
  if (s.charCodeAt(at) === 46 /* . */) {
    // Date.parse keeps the first three digits of any number of them (we take up to nine).
    const start = ++at;
    while (at < n && isDigit(s, at)) {
      if (at - start < 3) ms = ms * 10 + (s.charCodeAt(at) - DIGIT_0);
      at++;
    }
    const len = at - start;
    if (len === 0 || len > 9) return Number.NaN;
    if (len === 1) ms *= 100;
    else if (len === 2) ms *= 10;
  }
  const offset = zoneMinutes(s, at);
  if (Number.isNaN(offset)) return Number.NaN;
  return Date.UTC(century * 100 + yearOfCentury, month - 1, day, hour, minute, second, ms) - offset * 60_000;
}

/** `Z` → 0, `±HH:MM` / `±HHMM` → signed minutes, when that is all that is left of `s` from `at`; else NaN. */
function zoneMinutes(s: string, at: number): number {
  const rest = s.length - at;
  const c = s.charCodeAt(at);
  if (c === 90 /* Z */) return rest === 1 ? 0 : Number.NaN;
  if ((c !== 43 && c !== 45) || (rest !== 6 && rest !== 5)) return Number.NaN;
  const hours = twoDigits(s, at + 1);
  if (rest === 6 && s.charCodeAt(at + 3) !== 58) return Number.NaN;
  const minutes = twoDigits(s, at + (rest === 6 ? 4 : 3));
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return Number.NaN;
  return (c === 45 ? -1 : 1) * (hours * 60 + minutes);
}
