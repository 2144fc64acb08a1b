/**
 * Reads one conntrack entry line by index scanning (no regex per field): the header tokens
 * (`ipv4     2 tcp      6 431999 ESTABLISHED`, or the same without the l3 prefix), then only the
 * fields the aggregates need. Works for /proc/net/nf_conntrack, `conntrack -L`, `-L -o extended`
 * and `-E` event lines (`[NEW] tcp …`, `[DESTROY]` lines have no timeout).
 *
 * The result is written into a caller-owned object that is reused from line to line.
 */

export interface EntryFields {
  /** Leading `[NEW]`/`[UPDATE]`/`[DESTROY]` of event output, else null. */
  event: string | null;
  /** `ipv4`/`ipv6` when the l3 prefix is present, else null. */
  l3: string | null;
  l4: string;
  timeout: number | null;
  /** TCP/SCTP/DCCP state token (`ESTABLISHED`), null for stateless protocols. */
  state: string | null;
  /** Original direction tuple. */
  src: string;
  dst: string;
  dport: string | null;
  mark: string | null;
  zone: string | null;
  use: string | null;
  /** Bracketed flags anywhere after the header (`ASSURED`, `UNREPLIED`, `OFFLOAD`, `HW_OFFLOAD` …). */
  flags: string[];
  /** Sums of `packets=`/`bytes=` over both directions, or -1 without accounting fields. */
  packets: number;
  bytes: number;
}

export function emptyEntry(): EntryFields {
  return { event: null, l3: null, l4: "", timeout: null, state: null, src: "", dst: "", dport: null, mark: null, zone: null, use: null, flags: [], packets: -1, bytes: -1 };
}

const MAX_HEADER_TOKENS = 7;
const MAX_VALUE_CHARS = 128;

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Lower-case protocol names: `tcp`, `udp`, `icmpv6`, `udplite`, `unknown`, `ipv4`. */
function isProtoName(s: string): boolean {
  if (s.length === 0 || s.length > 16) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/** Upper-case state tokens: `ESTABLISHED`, `TIME_WAIT`, `COOKIE_WAIT`. */
function isStateName(s: string): boolean {
  if (s.length === 0 || s.length > 24) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95)) return false;
  }
  return true;
}

function skipSpaces(line: string, p: number): number {
  while (p < line.length) {
    const c = line.charCodeAt(p);
    if (c !== 32 && c !== 9) break;
    p++;
  }
  return p;
}

function tokenEnd(line: string, p: number): number {
  while (p < line.length) {
    const c = line.charCodeAt(p);
    if (c === 32 || c === 9) break;
    p++;
  }
  return p;
}

/** Value of `key` (which must include the leading space and `=`) searched in [from, to). */
function valueOf(line: string, key: string, from: number, to: number): string | null {
  const at = line.indexOf(key, from);
  if (at < 0 || at >= to) return null;
  const start = at + key.length;
  const end = tokenEnd(line, start);
  if (end === start || end - start > MAX_VALUE_CHARS) return null;
  return line.slice(start, end);
}

/** Sums the numbers after every occurrence of `key` from `from`; -1 when none. */
function sumOf(line: string, key: string, from: number): number {
  let total = -1;
  let at = line.indexOf(key, from);
  while (at >= 0) {
    const start = at + key.length;
    const end = tokenEnd(line, start);
    const text = line.slice(start, end);
    if (isDigits(text)) total = (total < 0 ? 0 : total) + Number(text);
    at = line.indexOf(key, end);
  }
  return total;
}

/** Fills `out` from `line`; returns false when the line is not a conntrack entry. */
export function readEntryLine(line: string, out: EntryFields): boolean {
  const len = line.length;
  let p = skipSpaces(line, 0);
  out.event = null;
  // `[NEW]`, `[DESTROY]` (events) and `[1700000000.123456]` (-o timestamp) prefixes.
  while (p < len && line.charCodeAt(p) === 91 /* [ */) {
    const close = line.indexOf("]", p);
    if (close < 0 || close - p > 40) return false;
    const tag = line.slice(p + 1, close);
    if (out.event === null && isStateName(tag)) out.event = tag;
    p = skipSpaces(line, close + 1);
  }
  // Header tokens up to the first `key=value`.
  const header: string[] = [];
  for (;;) {
    if (p >= len) return false;
    const end = tokenEnd(line, p);
    const eq = line.indexOf("=", p);
    if (eq >= 0 && eq < end) break;
    if (header.length === MAX_HEADER_TOKENS) return false;
    header.push(line.slice(p, end));
    p = skipSpaces(line, end);
  }
  let n = header.length;
  out.state = null;
  const last = header[n - 1];
  if (last !== undefined && !isDigits(last)) {
    if (!isStateName(last)) return false;
    out.state = last;
    n--;
  }
  const h0 = header[0] ?? "", h1 = header[1] ?? "", h2 = header[2] ?? "", h3 = header[3] ?? "", h4 = header[4] ?? "";
  let timeoutText: string | null;
  if (n === 5 || n === 4) {
    if (!isProtoName(h0) || isDigits(h0) || !isDigits(h1) || !isProtoName(h2) || isDigits(h2) || !isDigits(h3)) return false;
    out.l3 = h0;
    out.l4 = h2;
    timeoutText = n === 5 ? h4 : null;
  } else if (n === 3 || n === 2) {
    if (!isProtoName(h0) || isDigits(h0) || !isDigits(h1)) return false;
    out.l3 = null;
    out.l4 = h0;
    timeoutText = n === 3 ? h2 : null;
  } else {
    return false;
  }
  if (timeoutText !== null && !isDigits(timeoutText)) return false;
  out.timeout = timeoutText === null ? null : Number(timeoutText);

  // Original tuple: `src=` must come first, then `dst=`.
  if (!line.startsWith("src=", p)) return false;
  const srcEnd = tokenEnd(line, p + 4);
  if (srcEnd === p + 4 || srcEnd - p - 4 > MAX_VALUE_CHARS) return false;
  out.src = line.slice(p + 4, srcEnd);
  const dstAt = skipSpaces(line, srcEnd);
  if (!line.startsWith("dst=", dstAt)) return false;
  const dstEnd = tokenEnd(line, dstAt + 4);
  if (dstEnd === dstAt + 4 || dstEnd - dstAt - 4 > MAX_VALUE_CHARS) return false;
  out.dst = line.slice(dstAt + 4, dstEnd);
  const replyAt = line.indexOf(" src=", dstEnd);
  const origEnd = replyAt < 0 ? len : replyAt;
  out.dport = valueOf(line, " dport=", dstEnd, origEnd);

  // Flags.
  out.flags.length = 0;
  let b = line.indexOf(" [", dstEnd);
  while (b >= 0) {
    const close = line.indexOf("]", b + 2);
    if (close < 0 || close - b > 40) break;
    const flag = line.slice(b + 2, close);
    if (isStateName(flag)) out.flags.push(flag);
    b = line.indexOf(" [", close);
  }
  const tail = replyAt < 0 ? dstEnd : replyAt;
  out.mark = valueOf(line, " mark=", tail, len);
  out.zone = valueOf(line, " zone=", tail, len);
  const useAt = line.lastIndexOf(" use=");
  out.use = useAt >= tail ? valueOf(line, " use=", useAt, len) : null;
  if (line.indexOf(" bytes=", dstEnd) >= 0) {
    out.packets = sumOf(line, " packets=", dstEnd);
    out.bytes = sumOf(line, " bytes=", dstEnd);
  } else {
    out.packets = -1;
    out.bytes = -1;
  }
  return true;
}
