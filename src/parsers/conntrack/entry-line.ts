/**
 * Reads one conntrack entry line straight from the bytes of the file (no string per line, no
 * regex): the header tokens (`ipv4     2 tcp      6 431999 ESTABLISHED`, or the same without the
 * l3 prefix), then one pass over the `key=value` tokens for the fields the aggregates need. Works
 * for /proc/net/nf_conntrack, `conntrack -L`, `-L -o extended` and `-E` event lines (`[NEW] tcp …`,
 * `[DESTROY]` lines have no timeout).
 *
 * A 2 M-entry dump is 600 MB: this runs once per byte, so it stays allocation-free. Names (l3, l4,
 * states, flags) come from a small interner; addresses and values are returned as byte ranges and
 * the caller decides how to key them.
 *
 * The result is written into a caller-owned object that is reused from line to line.
 */

/** A byte range [start, end) inside the line's buffer; start = -1 when absent. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface EntryFields {
  /** Leading `[NEW]`/`[UPDATE]`/`[DESTROY]` of event output, else null. */
  event: string | null;
  eventId: number;
  /** `ipv4`/`ipv6` when the l3 prefix is present, else null. */
  l3: string | null;
  l3Id: number;
  l4: string;
  /** Small integer naming `l4` (index in the interner): keys per-protocol counters cheaply. */
  l4Id: number;
  /** Seconds, or -1 when the line has none. */
  timeout: number;
  /** TCP/SCTP/DCCP state token (`ESTABLISHED`), null for stateless protocols. */
  state: string | null;
  stateId: number;
  /** Original direction tuple. */
  src: ByteRange;
  dst: ByteRange;
  /** `src`/`dst` as an int32 when it is a canonical dotted quad, else NOT_V4 (read while scanning). */
  srcV4: number;
  dstV4: number;
  dport: ByteRange;
  mark: ByteRange;
  zone: ByteRange;
  use: ByteRange;
  /** Bracketed flags anywhere after the header (`ASSURED`, `UNREPLIED`, `OFFLOAD`, `HW_OFFLOAD` …). */
  /** `flags[0, flagCount)` are this line's; the arrays are reused from line to line. */
  flags: string[];
  /** Interner ids of `flags` (-1 for a name the interner had no room for). Every `…Id` is such an id. */
  flagIds: Int32Array;
  flagCount: number;
  /** Sums of `packets=`/`bytes=` over both directions, or -1 without accounting fields. */
  packets: number;
  bytes: number;
  /** Headers of recent lines up to their timeout, read once and compared byte for byte after. */
  prefixes: HeaderPrefix[];
  /** The slot the next new header replaces. */
  nextPrefix: number;
}

/**
 * A header up to the timeout (`ipv4     2 tcp      6 `, `tcp      6 `) and what it said: most
 * lines of a dump repeat the one before, so comparing bytes replaces tokenising and interning.
 */
interface HeaderPrefix {
  bytes: Uint8Array;
  /** 0: nothing remembered. */
  length: number;
  l3: string | null;
  l3Id: number;
  l4: string;
  l4Id: number;
}

const MAX_PREFIX_BYTES = 64;
/** Headers remembered: one per protocol a dump mixes line by line (tcp, udp, icmp …). */
const PREFIXES = 4;

const range = (): ByteRange => ({ start: -1, end: -1 });

export function emptyEntry(): EntryFields {
  return {
    event: null, eventId: -1, l3: null, l3Id: -1, l4: "", l4Id: -1, timeout: -1, state: null, stateId: -1,
    src: range(), dst: range(), srcV4: NOT_V4, dstV4: NOT_V4, dport: range(), mark: range(), zone: range(), use: range(),
    flags: [], flagIds: new Int32Array(MAX_FLAGS), flagCount: 0, packets: -1, bytes: -1,
    prefixes: Array.from({ length: PREFIXES }, () => ({ bytes: new Uint8Array(MAX_PREFIX_BYTES), length: 0, l3: null, l3Id: -1, l4: "", l4Id: -1 })),
    nextPrefix: 0,
  };
}

const MAX_HEADER_TOKENS = 7;
/** Bracketed flags kept per line (the kernel prints at most three or four). */
const MAX_FLAGS = 16;
const MAX_VALUE_BYTES = 128;
const SPACE = 32, TAB = 9, EQ = 61, OPEN = 91, CLOSE = 93;

/** Interns short ASCII names (protocols, states, flags) so that a 600 MB dump makes no string per token. */
export class NameInterner {
  /** Direct-mapped cache by length and edge bytes: most lookups end here after one comparison. */
  private readonly cache: (string | undefined)[] = new Array<string | undefined>(1024).fill(undefined);
  private readonly cacheIds = new Int32Array(1024);
  private readonly byHash = new Map<number, number>();
  readonly names: string[] = [];
  /** Id of the name the last `intern` returned; -1 when the interner was full. */
  lastId = -1;

  constructor(private readonly max = 512) {}

  /** The name of buf[start, end): the same string object every time. */
  intern(buf: Uint8Array, start: number, end: number): string {
    const len = end - start;
    const slot = (len * 31 + (buf[start] as number) * 7 + (buf[end - 1] as number) * 3 + (buf[start + (len >> 1)] as number)) & 1023;
    const cached = this.cache[slot];
    if (cached !== undefined && sameAscii(cached, buf, start, end)) {
      this.lastId = this.cacheIds[slot] as number;
      return cached;
    }
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    h = (h ^ len) | 0;
    const id = this.byHash.get(h);
    const known = id === undefined ? undefined : this.names[id];
    if (id !== undefined && known !== undefined && sameAscii(known, buf, start, end)) {
      this.cache[slot] = known;
      this.cacheIds[slot] = id;
      this.lastId = id;
      return known;
    }
    const name = latin1(buf, start, end);
    if (id === undefined && this.names.length < this.max) {
      this.lastId = this.names.length;
      this.byHash.set(h, this.lastId);
      this.names.push(name);
      this.cache[slot] = name;
      this.cacheIds[slot] = this.lastId;
    } else this.lastId = -1;
    return name;
  }
}

function sameAscii(s: string, buf: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i] as number);
  return s;
}

export function isDigits(buf: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > 15) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Decimal value of digits already checked by isDigits. */
export function digitsValue(buf: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + ((buf[i] as number) - 48);
  return v;
}

/** Lower-case protocol names: `tcp`, `udp`, `icmpv6`, `udplite`, `unknown`, `ipv4`. */
function isProtoName(buf: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > 16) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45)) return false;
  }
  return true;
}

/** Upper-case state tokens: `ESTABLISHED`, `TIME_WAIT`, `COOKIE_WAIT`. */
function isStateName(buf: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0 || n > 24) return false;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (!((c >= 65 && c <= 90) || c === 95)) return false;
  }
  return true;
}

/** Marks an address that is not a canonical dotted quad (outside the int32 range, so never a value). */
export const NOT_V4 = 2 ** 32;
let lastV4 = NOT_V4;

/**
 * Token end from p, reading a canonical dotted-quad IPv4 on the way into `lastV4` (NOT_V4 when the
 * token is anything else: IPv6, a leading zero, an octet over 255).
 */
function scanAddress(buf: Uint8Array, p: number, end: number): number {
  let value = 0, octet = 0, digits = 0, dots = 0, ok = true;
  while (p < end) {
    const c = buf[p] as number;
    if (c <= SPACE && (c === SPACE || c === TAB)) break;
    if (ok) {
      if (c >= 48 && c <= 57) {
        if (digits > 0 && octet === 0) ok = false;
        octet = octet * 10 + (c - 48);
        if (++digits > 3 || octet > 255) ok = false;
      } else if (c === 46 && digits > 0 && dots < 3) {
        value = (value << 8) | octet;
        octet = 0;
        digits = 0;
        dots++;
      } else ok = false;
    }
    p++;
  }
  lastV4 = ok && dots === 3 && digits > 0 ? (value << 8) | octet : NOT_V4;
  return p;
}

function skipSpaces(buf: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = buf[p];
    if (c !== SPACE && c !== TAB) break;
    p++;
  }
  return p;
}

function tokenEnd(buf: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const c = buf[p] as number;
    if (c <= SPACE && (c === SPACE || c === TAB)) break;
    p++;
  }
  return p;
}

function indexOfByte(buf: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

function setRange(r: ByteRange, start: number, end: number): void {
  r.start = start;
  r.end = end;
}


const headerStarts = new Int32Array(MAX_HEADER_TOKENS);
const headerEnds = new Int32Array(MAX_HEADER_TOKENS);

function isWord(buf: Uint8Array, i: number): boolean {
  const s = headerStarts[i] as number, e = headerEnds[i] as number;
  return isProtoName(buf, s, e) && !isDigits(buf, s, e);
}

function isDigitToken(buf: Uint8Array, i: number): boolean {
  return isDigits(buf, headerStarts[i] as number, headerEnds[i] as number);
}

/** Fills `out` from buf[start, end); returns false when the line is not a conntrack entry. */
export function readEntryLine(buf: Uint8Array, start: number, end: number, out: EntryFields, names: NameInterner): boolean {
  let p = skipSpaces(buf, start, end);
  out.event = null;
  // `[NEW]`, `[DESTROY]` (events) and `[1700000000.123456]` (-o timestamp) prefixes.
  while (p < end && buf[p] === OPEN) {
    const close = indexOfByte(buf, CLOSE, p, Math.min(end, p + 41));
    if (close < 0) return false;
    if (out.event === null && isStateName(buf, p + 1, close)) {
      out.event = names.intern(buf, p + 1, close);
      out.eventId = names.lastId;
    }
    p = skipSpaces(buf, close + 1, end);
  }
  const headerAt = p;
  const known = out.event === null ? readKnownHeader(buf, p, end, out, names) : -1;
  if (known >= 0) return readTuples(buf, known, end, out, names);
  // Header tokens up to the first `key=value`.
  let n = 0;
  for (;;) {
    if (p >= end) return false;
    let te = p;
    let hasEq = false;
    for (; te < end; te++) {
      const c = buf[te] as number;
      if (c <= SPACE && (c === SPACE || c === TAB)) break;
      if (c === EQ) hasEq = true;
    }
    if (hasEq) break;
    if (n === MAX_HEADER_TOKENS) return false;
    headerStarts[n] = p;
    headerEnds[n] = te;
    n++;
    p = skipSpaces(buf, te, end);
  }
  const hs = headerStarts, he = headerEnds;
  out.state = null;
  out.stateId = -1;
  if (n > 0) {
    const ls = hs[n - 1] as number, le = he[n - 1] as number;
    if (!isDigits(buf, ls, le)) {
      if (!isStateName(buf, ls, le)) return false;
      out.state = names.intern(buf, ls, le);
      out.stateId = names.lastId;
      n--;
    }
  }
  let l4Index: number;
  let timeoutIndex = -1;
  if (n === 5 || n === 4) {
    if (!isWord(buf, 0) || !isDigitToken(buf, 1) || !isWord(buf, 2) || !isDigitToken(buf, 3)) return false;
    out.l3 = names.intern(buf, hs[0] as number, he[0] as number);
    out.l3Id = names.lastId;
    l4Index = 2;
    if (n === 5) timeoutIndex = 4;
  } else if (n === 3 || n === 2) {
    if (!isWord(buf, 0) || !isDigitToken(buf, 1)) return false;
    out.l3 = null;
    out.l3Id = -1;
    l4Index = 0;
    if (n === 3) timeoutIndex = 2;
  } else {
    return false;
  }
  if (timeoutIndex >= 0 && !isDigitToken(buf, timeoutIndex)) return false;
  out.l4 = names.intern(buf, hs[l4Index] as number, he[l4Index] as number);
  out.l4Id = names.lastId;
  out.timeout = timeoutIndex < 0 ? -1 : digitsValue(buf, hs[timeoutIndex] as number, he[timeoutIndex] as number);
  if (timeoutIndex >= 0 && out.event === null) rememberHeader(buf, headerAt, hs[timeoutIndex] as number, out);
  return readTuples(buf, p, end, out, names);
}

function rememberHeader(buf: Uint8Array, start: number, timeoutAt: number, out: EntryFields): void {
  const length = timeoutAt - start;
  if (length > MAX_PREFIX_BYTES) return;
  const pre = out.prefixes[out.nextPrefix] as HeaderPrefix;
  out.nextPrefix = (out.nextPrefix + 1) % PREFIXES;
  const bytes = pre.bytes;
  for (let i = 0; i < length; i++) bytes[i] = buf[start + i] as number;
  pre.length = length;
  pre.l3 = out.l3;
  pre.l3Id = out.l3Id;
  pre.l4 = out.l4;
  pre.l4Id = out.l4Id;
}

/**
 * The header when it starts with the remembered prefix and goes on as `<timeout> [STATE] src=`:
 * fills l3, l4, timeout and state, and returns where `src=` starts; -1 for any other line (the
 * tokenising reader then takes it, with the same result for a line this one takes).
 */
function readKnownHeader(buf: Uint8Array, p: number, end: number, out: EntryFields, names: NameInterner): number {
  const pre = knownPrefix(buf, p, end, out.prefixes);
  if (pre === undefined) return -1;
  const ts = p + pre.length;
  let q = ts;
  while (q < end) {
    const c = buf[q] as number;
    if (c < 48 || c > 57) break;
    q++;
  }
  const te = q;
  if (te === ts || te - ts > 15 || q >= end || (buf[q] !== SPACE && buf[q] !== TAB)) return -1;
  q = skipSpaces(buf, q, end);
  let state: string | null = null;
  let stateId = -1;
  if (!isSrcKey(buf, q)) {
    const ss = q;
    while (q < end) {
      const c = buf[q] as number;
      if (!((c >= 65 && c <= 90) || c === 95)) break;
      q++;
    }
    if (q === ss || q - ss > 24 || q >= end || (buf[q] !== SPACE && buf[q] !== TAB)) return -1;
    state = names.intern(buf, ss, q);
    stateId = names.lastId;
    q = skipSpaces(buf, q, end);
    if (!isSrcKey(buf, q)) return -1;
  }
  out.state = state;
  out.stateId = stateId;
  out.l3 = pre.l3;
  out.l3Id = pre.l3Id;
  out.l4 = pre.l4;
  out.l4Id = pre.l4Id;
  out.timeout = digitsValue(buf, ts, te);
  return q;
}

/** The remembered header that buf[p …] starts with. */
function knownPrefix(buf: Uint8Array, p: number, end: number, prefixes: HeaderPrefix[]): HeaderPrefix | undefined {
  for (let k = 0; k < prefixes.length; k++) {
    const pre = prefixes[k] as HeaderPrefix;
    const length = pre.length;
    if (length === 0 || p + length >= end) continue;
    const bytes = pre.bytes;
    let i = 0;
    while (i < length && buf[p + i] === bytes[i]) i++;
    if (i === length) return pre;
  }
  return undefined;
}

function isSrcKey(buf: Uint8Array, p: number): boolean {
  return buf[p] === 115 && buf[p + 1] === 114 && buf[p + 2] === 99 && buf[p + 3] === EQ;
}

/** The tuples and the fields after the header; `p` is where the first `key=value` starts. */
function readTuples(buf: Uint8Array, p: number, end: number, out: EntryFields, names: NameInterner): boolean {
  // Original tuple: `src=` must come first, then `dst=`.
  if (!(buf[p] === 115 && buf[p + 1] === 114 && buf[p + 2] === 99 && buf[p + 3] === EQ)) return false; // src=
  const srcEnd = scanAddress(buf, p + 4, end);
  out.srcV4 = lastV4;
  if (srcEnd === p + 4 || srcEnd - p - 4 > MAX_VALUE_BYTES) return false;
  setRange(out.src, p + 4, srcEnd);
  const dstAt = skipSpaces(buf, srcEnd, end);
  if (!(buf[dstAt] === 100 && buf[dstAt + 1] === 115 && buf[dstAt + 2] === 116 && buf[dstAt + 3] === EQ)) return false; // dst=
  const dstEnd = scanAddress(buf, dstAt + 4, end);
  out.dstV4 = lastV4;
  if (dstEnd === dstAt + 4 || dstEnd - dstAt - 4 > MAX_VALUE_BYTES) return false;
  setRange(out.dst, dstAt + 4, dstEnd);

  // One pass over the remaining tokens. The reply tuple starts at the next ` src=`; `dport` is the
  // original direction's first; `mark`/`zone` are the first and `use` the last from the reply on
  // (from the original tuple on when there is no reply).
  out.flagCount = 0;
  let inReply = false, sawDport = false, flagsDone = false, sawBytes = false;
  let packets = -1, bytes = -1;
  let markPre = -1, markPreEnd = -1, zonePre = -1, zonePreEnd = -1, usePre = -1, usePreEnd = -1;
  let mark = -1, markEnd = -1, zone = -1, zoneEnd = -1, use = -1, useEnd = -1, dport = -1, dportEnd = -1;
  let q = dstEnd;
  while (q < end) {
    // Keys count only after a single space, as the kernel prints them.
    if (buf[q] !== SPACE) {
      const te = tokenEnd(buf, q, end);
      q = te === q ? q + 1 : te;
      continue;
    }
    const t = q + 1;
    if (t >= end) break;
    const first = buf[t];
    if (first === OPEN) {
      if (flagsDone) {
        q = tokenEnd(buf, t, end);
        continue;
      }
      const close = indexOfByte(buf, CLOSE, t + 1, Math.min(end, t + 40));
      if (close < 0) {
        flagsDone = true;
        q = tokenEnd(buf, t, end);
        continue;
      }
      if (isStateName(buf, t + 1, close) && out.flagCount < MAX_FLAGS) {
        out.flags[out.flagCount] = names.intern(buf, t + 1, close);
        out.flagIds[out.flagCount++] = names.lastId;
      }
      q = close + 1;
      continue;
    }
    // The keys we read (dport, mark, zone, use, packets, bytes), by first byte, `=` after the key and
    // the key's other bytes as numbers: this runs for every token of millions of lines.
    let klen = 0;
    switch (first) {
      case 115 /* s */:
        if (!inReply && buf[t + 3] === EQ && buf[t + 1] === 114 && buf[t + 2] === 99) inReply = true;
        break;
      case 100 /* d */:
        if (!inReply && !sawDport && buf[t + 5] === EQ && buf[t + 1] === 112 && buf[t + 2] === 111 && buf[t + 3] === 114 && buf[t + 4] === 116) klen = 5;
        break;
      case 109 /* m */:
        if (buf[t + 4] === EQ && buf[t + 1] === 97 && buf[t + 2] === 114 && buf[t + 3] === 107) klen = 4;
        break;
      case 122 /* z */:
        if (buf[t + 4] === EQ && buf[t + 1] === 111 && buf[t + 2] === 110 && buf[t + 3] === 101) klen = 4;
        break;
      case 117 /* u */:
        if (buf[t + 3] === EQ && buf[t + 1] === 115 && buf[t + 2] === 101) klen = 3;
        break;
      case 112 /* p */:
        if (buf[t + 7] === EQ && buf[t + 1] === 97 && buf[t + 2] === 99 && buf[t + 3] === 107 && buf[t + 4] === 101 && buf[t + 5] === 116 && buf[t + 6] === 115) klen = 7;
        break;
      case 98 /* b */:
        if (buf[t + 5] === EQ && buf[t + 1] === 121 && buf[t + 2] === 116 && buf[t + 3] === 101 && buf[t + 4] === 115) klen = 5;
        break;
    }
    const te = tokenEnd(buf, t, end);
    q = te;
    if (klen === 0) continue;
    const vs = t + klen + 1;
    if (vs > te) continue; // the `=` lay past the token's end
    const ok = te - vs > 0 && te - vs <= MAX_VALUE_BYTES;
    switch (first) {
      case 100:
        sawDport = true;
        if (ok) (dport = vs), (dportEnd = te);
        break;
      case 109:
        if (inReply) {
          if (mark === -2 || mark >= 0) break;
          if (ok) (mark = vs), (markEnd = te);
          else mark = -2;
        } else if (markPre === -1) {
          if (ok) (markPre = vs), (markPreEnd = te);
          else markPre = -2;
        }
        break;
      case 122:
        if (inReply) {
          if (zone === -2 || zone >= 0) break;
          if (ok) (zone = vs), (zoneEnd = te);
          else zone = -2;
        } else if (zonePre === -1) {
          if (ok) (zonePre = vs), (zonePreEnd = te);
          else zonePre = -2;
        }
        break;
      case 117: {
        const vStart = ok ? vs : -1, vEnd = ok ? te : -1;
        if (inReply) (use = vStart), (useEnd = vEnd);
        else (usePre = vStart), (usePreEnd = vEnd);
        break;
      }
      case 112:
        if (isDigits(buf, vs, te)) packets = (packets < 0 ? 0 : packets) + digitsValue(buf, vs, te);
        break;
      case 98:
        sawBytes = true;
        if (isDigits(buf, vs, te)) bytes = (bytes < 0 ? 0 : bytes) + digitsValue(buf, vs, te);
        break;
    }
  }
  if (!inReply) {
    (mark = markPre), (markEnd = markPreEnd), (zone = zonePre), (zoneEnd = zonePreEnd), (use = usePre), (useEnd = usePreEnd);
  }
  setRange(out.dport, dport, dportEnd);
  setRange(out.mark, mark < 0 ? -1 : mark, markEnd);
  setRange(out.zone, zone < 0 ? -1 : zone, zoneEnd);
  setRange(out.use, use < 0 ? -1 : use, useEnd);
  out.packets = sawBytes ? packets : -1;
  out.bytes = sawBytes ? bytes : -1;
  return true;
}
