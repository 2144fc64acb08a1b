/**
 * Aggregates a conntrack table dump: /proc/net/nf_conntrack (proc/<pid>/net/nf_conntrack in sos 4.0),
 * `conntrack -L` and `conntrack -L -o extended` (sos: sos_commands/conntrack/conntrack_-L_-o_extended),
 * with the conntrack-tools summary line from stderr when it was merged in.
 *
 * Real sample (/proc/net/nf_conntrack in a lab namespace, kernel 6.18):
 *
 *   ipv4     2 tcp      6 431998 ESTABLISHED src=10.88.0.2 dst=10.88.0.1 sport=56678 dport=8080 src=10.88.0.1 dst=10.88.0.2 sport=8080 dport=56678 [ASSURED] mark=0 zone=0 use=2
 *   ipv4     2 udp      17 28 src=10.88.0.2 dst=10.88.0.1 sport=60901 dport=9999 [UNREPLIED] src=10.88.0.1 dst=10.88.0.2 sport=9999 dport=60901 mark=0 zone=0 use=2
 *   ipv4     2 icmp     1 28 src=10.88.0.2 dst=10.88.0.1 type=8 code=0 id=16962 [UNREPLIED] src=10.88.0.1 dst=10.88.0.2 type=0 code=0 id=16962 mark=0 zone=5 use=2
 *
 * `conntrack -L` prints the same without `ipv4     2 ` and omits zone 0; stderr ends with
 * `conntrack v1.4.7 (conntrack-tools): 25 flow entries have been shown.`
 *
 * Streamed: no entry is kept, and no string is made per line: the reader fills byte ranges, IPv4
 * addresses and numbers are counted as numbers and only printed for the top lists. Per-key counts are exact up to a cap of distinct keys per map, then a
 * Misra-Gries heavy-hitter sketch takes over and the map says `approximate: true`. Addresses are counted as
 * printed (/proc zero-pads IPv6, `conntrack -L` compresses it).
 */
import { z } from "zod";
import type { LineParser, ParseResult, ParseWarning, ParserFactory } from "./types.js";
import { BoundedCounter, type CounterState, topCountsSchema } from "./conntrack/bounded-counter.js";
import { provenanceAt, provenanceSchema, readToolMessage, skippedLineWarning, toolMessageSchema, type ToolMessage } from "./conntrack/common.js";
import { type ByteRange, NOT_V4, NameInterner, digitsValue, emptyEntry, isDigits, readEntryLine } from "./conntrack/entry-line.js";

/** TCP established timeout default (kernel-facts §2.2). */
export const TCP_ESTABLISHED_DEFAULT = 432000;
/** An entry whose timeout is within this many seconds of the default saw traffic in the last hour. */
export const NEAR_DEFAULT_WINDOW = 3600;

export interface TableOptions {
  /** Distinct keys counted exactly per map before the sketch takes over. */
  exactKeyCap?: number;
  /** Counters kept by the sketch. */
  sketchSize?: number;
  /** Items listed in the top lists. */
  topN?: number;
}

const sampleSchema = z.object({ text: z.string(), provenance: provenanceSchema });

export const schema = z.object({
  /** Parsed entries. */
  entries: z.number().int().nonnegative(),
  /** `l3-prefix` = /proc or `-o extended`; `plain` = `conntrack -L`. */
  layout: z.enum(["l3-prefix", "plain", "mixed", "empty"]),
  firstLine: z.number().int().nullable(),
  lastLine: z.number().int().nullable(),
  unparsable: z.object({ count: z.number().int().nonnegative(), firstLines: z.array(z.number().int()) }),
  byL3: topCountsSchema,
  byL4: topCountsSchema,
  /** TCP entries by state (`ESTABLISHED`, `TIME_WAIT` …). */
  byTcpState: topCountsSchema,
  /** Other stateful protocols, keyed `<l4> <STATE>` (sctp, dccp). */
  byOtherState: topCountsSchema,
  /** Entries carrying each bracketed flag (`ASSURED`, `UNREPLIED`, `OFFLOAD`, `HW_OFFLOAD` …). */
  byFlag: topCountsSchema,
  /** Original-direction destination port, keyed `<l4>/<port>`. */
  byDestinationPort: topCountsSchema,
  topSources: topCountsSchema,
  topDestinations: topCountsSchema,
  /** Zone (missing field = zone 0: `conntrack -L` omits it). */
  byZone: topCountsSchema,
  /** Mark (`(none)` when the field is absent). */
  byMark: topCountsSchema,
  /** Entries with a `use=` field and their use counts. */
  use: z.object({ withField: z.number().int().nonnegative(), byValue: topCountsSchema }),
  /** `-E` output: events by kind. */
  byEvent: topCountsSchema,
  timeouts: z.object({
    withTimeout: z.number().int().nonnegative(),
    under60s: z.number().int().nonnegative(),
    under1h: z.number().int().nonnegative(),
    under1d: z.number().int().nonnegative(),
    atLeast1d: z.number().int().nonnegative(),
    /** Timeout within NEAR_DEFAULT_WINDOW below 432000 s (TCP established default, refreshed recently). */
    nearTcpEstablishedDefault: z.number().int().nonnegative(),
    max: z.number().int().nonnegative().nullable(),
  }),
  /** Sums of packets=/bytes= (both directions) when accounting was on. */
  accounting: z.object({ entries: z.number().int().nonnegative(), packets: z.number().nonnegative(), bytes: z.number().nonnegative() }),
  /** A few lines per state (`ESTABLISHED`, or the l4 name for stateless entries). */
  samples: z.record(z.string(), z.array(sampleSchema)),
  /** conntrack-tools lines (summary `N flow entries have been shown.`, errors). */
  toolMessages: z.array(toolMessageSchema),
  /** True when any map passed its exact cap. */
  approximate: z.boolean(),
});
export type ConntrackTable = z.infer<typeof schema>;

const SAMPLES_PER_STATE = 3;
const MAX_SAMPLE_KEYS = 40;
const MAX_SAMPLE_CHARS = 400;
const UNPARSABLE_WARNINGS = 5;
const UNPARSABLE_LINES_KEPT = 10;
const MAX_TOOL_MESSAGES = 20;

export function createTableParser(options: TableOptions = {}): ParserFactory<ConntrackTable> {
  const cap = options.exactKeyCap ?? 200_000;
  const sketch = options.sketchSize ?? 4096;
  const topN = options.topN ?? 20;
  return (ctx) => {
    const warnings: ParseWarning[] = [];
    const names = new NameInterner(512);
    const printKey = (k: string | number): string => (typeof k === "number" ? String(k) : k);
    const printAddress = (k: string | number): string => (typeof k === "number" ? ipv4Text(k) : k);
    const printPort = (k: string | number): string => (typeof k === "number" ? `${names.names[k >>> 16] ?? "?"}/${k & 0xffff}` : k);
    const small = (): BoundedCounter => new BoundedCounter(1000, 256);
    const big = (format: (k: string | number) => string = printKey): BoundedCounter<string | number> => new BoundedCounter<string | number>(cap, sketch, format);
    const byL3 = new NameTally(names, small()), byL4 = new NameTally(names, small()), byTcpState = new NameTally(names, small());
    const byFlag = new NameTally(names, small()), byEvent = new NameTally(names, small());
    const byOtherState = small();
    const byDport = big(printPort), sources = big(printAddress), destinations = big(printAddress), byZone = big(), byMark = big(), byUse = big();
    const otherStateKeys = new Map<string, Map<string, string>>();
    const fields = emptyEntry();
    const samples = new Map<string, { text: string; provenance: ReturnType<typeof provenanceAt> }[]>();
    const toolMessages: ToolMessage[] = [];
    const unparsableLines: number[] = [];
    let unparsable = 0;
    let noL3 = 0;
    let entries = 0, withPrefix = 0, firstLine: number | null = null, lastLine: number | null = null;
    let withUse = 0, withTimeout = 0, under60 = 0, under1h = 0, under1d = 0, atLeast1d = 0, nearDefault = 0;
    let maxTimeout: number | null = null;
    let acctEntries = 0, packets = 0, bytes = 0;

    const keepSample = (key: string, buf: Uint8Array, start: number, end: number, lineNo: number): void => {
      let list = samples.get(key);
      if (list === undefined) {
        if (samples.size >= MAX_SAMPLE_KEYS) return;
        list = [];
        samples.set(key, list);
      }
      if (list.length >= SAMPLES_PER_STATE) return;
      const line = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("utf8");
      list.push({ text: line.length > MAX_SAMPLE_CHARS ? `${line.slice(0, MAX_SAMPLE_CHARS)}…` : line, provenance: provenanceAt(ctx.path, lineNo) });
    };

    /** `<l4> <STATE>` without building the string for every line. */
    const otherStateKey = (l4: string, state: string): string => {
      let byState = otherStateKeys.get(l4);
      if (byState === undefined) otherStateKeys.set(l4, (byState = new Map()));
      let key = byState.get(state);
      if (key === undefined) byState.set(state, (key = `${l4} ${state}`));
      return key;
    };

    const count = (buf: Uint8Array, start: number, end: number, lineNo: number): void => {
      entries++;
      if (firstLine === null) firstLine = lineNo;
      lastLine = lineNo;
      const f = fields;
      if (f.l3 !== null) withPrefix++;
      if (f.l3 === null) noL3++;
      else byL3.add(f.l3Id, f.l3);
      byL4.add(f.l4Id, f.l4);
      if (f.event !== null) byEvent.add(f.eventId, f.event);
      if (f.state !== null) {
        if (f.l4 === "tcp") byTcpState.add(f.stateId, f.state);
        else byOtherState.add(otherStateKey(f.l4, f.state));
      }
      for (let i = 0; i < f.flagCount; i++) byFlag.add(f.flagIds[i] as number, f.flags[i] as string);
      if (f.dport.start >= 0) byDport.add(portKey(buf, f.dport, f.l4, f.l4Id));
      sources.add(f.srcV4 !== NOT_V4 ? f.srcV4 : text(buf, f.src));
      destinations.add(f.dstV4 !== NOT_V4 ? f.dstV4 : text(buf, f.dst));
      byZone.add(f.zone.start >= 0 ? numberKey(buf, f.zone) : 0);
      byMark.add(f.mark.start >= 0 ? numberKey(buf, f.mark) : "(none)");
      if (f.use.start >= 0) {
        withUse++;
        byUse.add(numberKey(buf, f.use));
      }
      const t = f.timeout;
      if (t >= 0) {
        withTimeout++;
        if (t < 60) under60++;
        else if (t < 3600) under1h++;
        else if (t < 86400) under1d++;
        else atLeast1d++;
        if (t <= TCP_ESTABLISHED_DEFAULT && t > TCP_ESTABLISHED_DEFAULT - NEAR_DEFAULT_WINDOW) nearDefault++;
        if (maxTimeout === null || t > maxTimeout) maxTimeout = t;
      }
      if (f.bytes >= 0) {
        acctEntries++;
        bytes += f.bytes;
        if (f.packets > 0) packets += f.packets;
      }
      keepSample(f.state ?? f.l4, buf, start, end, lineNo);
    };

    const notAnEntry = (line: string, lineNo: number): void => {
      if (line.trim() === "") return;
      const tool = readToolMessage(line, ctx.path, lineNo);
      if (tool !== null) {
        if (toolMessages.length < MAX_TOOL_MESSAGES) toolMessages.push(tool);
        return;
      }
      unparsable++;
      if (unparsableLines.length < UNPARSABLE_LINES_KEPT) unparsableLines.push(lineNo);
      if (unparsable <= UNPARSABLE_WARNINGS) warnings.push(skippedLineWarning(ctx.path, lineNo, line, "a conntrack entry"));
    };

    const pushBytes = (buf: Uint8Array, start: number, end: number, lineNo: number): void => {
      if (end > start && buf[end - 1] === 13) end--;
      if (end <= start) return;
      if (readEntryLine(buf, start, end, fields, names)) count(buf, start, end, lineNo);
      else notAnEntry(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("utf8"), lineNo);
    };

    const snapshot = (): TableState => {
      if (noL3 > 0) byL3.counter.add("(none)", noL3);
      noL3 = 0;
      for (const tally of [byL3, byL4, byTcpState, byFlag, byEvent]) tally.flush();
      return {
        entries, withPrefix, firstLine, lastLine, unparsable, unparsableLines, warnings, toolMessages,
        withUse, withTimeout, under60, under1h, under1d, atLeast1d, nearDefault, maxTimeout, acctEntries, packets, bytes,
        samples: [...samples],
        counters: {
          byL3: byL3.counter.exportState(), byL4: byL4.counter.exportState(), byTcpState: byTcpState.counter.exportState(),
          byOtherState: byOtherState.exportState(), byFlag: byFlag.counter.exportState(), byEvent: byEvent.counter.exportState(),
          byDport: byDport.exportState(), sources: sources.exportState(), destinations: destinations.exportState(),
          byZone: byZone.exportState(), byMark: byMark.exportState(), byUse: byUse.exportState(),
        },
      };
    };
    const absorbed: TableState[] = [];

    return {
      push(line, lineNo) {
        const buf = Buffer.from(line, "utf8");
        pushBytes(buf, 0, buf.length, lineNo);
      },
      pushBytes,
      snapshot,
      absorb(state: TableState) {
        absorbed.push(state);
      },
      end() {
        return finishTable(mergeStates([snapshot(), ...absorbed], cap, sketch), ctx.path, cap, topN);
      },
    };
  };
}

/** What one parser saw of a dump (a worker thread parses part of a big one): mergeable, serialisable. */
export interface TableState {
  entries: number;
  withPrefix: number;
  firstLine: number | null;
  lastLine: number | null;
  unparsable: number;
  unparsableLines: number[];
  /** Warnings raised line by line (unparsable lines), in line order. */
  warnings: ParseWarning[];
  toolMessages: ToolMessage[];
  withUse: number;
  withTimeout: number;
  under60: number;
  under1h: number;
  under1d: number;
  atLeast1d: number;
  nearDefault: number;
  maxTimeout: number | null;
  acctEntries: number;
  packets: number;
  bytes: number;
  samples: [string, Sample[]][];
  counters: Record<CounterName, CounterState>;
}
type Sample = { text: string; provenance: ReturnType<typeof provenanceAt> };
type CounterName = "byL3" | "byL4" | "byTcpState" | "byOtherState" | "byFlag" | "byEvent" | "byDport" | "sources" | "destinations" | "byZone" | "byMark" | "byUse";

/** The parser that can take the states of other parsers over other parts of the same file. */
export type MergeableTableParser = LineParser<ConntrackTable> & { snapshot(): TableState; absorb(state: TableState): void };

const byLine = (a: { line?: number; provenance?: { line: number } }, b: { line?: number; provenance?: { line: number } }): number =>
  (a.line ?? a.provenance?.line ?? 0) - (b.line ?? b.provenance?.line ?? 0);

function mergeStates(states: TableState[], cap: number, sketch: number): TableState & { merged: Record<CounterName, BoundedCounter> } {
  const sum = (f: (s: TableState) => number): number => states.reduce((n, s) => n + f(s), 0);
  const lines = (f: (s: TableState) => number | null, pick: (a: number, b: number) => number): number | null =>
    states.reduce<number | null>((acc, s) => {
      const v = f(s);
      return v === null ? acc : acc === null ? v : pick(acc, v);
    }, null);
  const samples = new Map<string, Sample[]>();
  for (const s of states) for (const [key, list] of s.samples) samples.set(key, [...(samples.get(key) ?? []), ...list]);
  const firstKeys = [...samples].sort((a, b) => (a[1][0]?.provenance.line ?? 0) - (b[1][0]?.provenance.line ?? 0)).slice(0, MAX_SAMPLE_KEYS);
  const counterNames = Object.keys(states[0]?.counters ?? {}) as CounterName[];
  const merged = Object.fromEntries(
    counterNames.map((name) => {
      const small = ["byL3", "byL4", "byTcpState", "byOtherState", "byFlag", "byEvent"].includes(name);
      return [name, BoundedCounter.fromStates(states.map((s) => s.counters[name]), small ? 1000 : cap, small ? 256 : sketch)];
    }),
  ) as Record<CounterName, BoundedCounter>;
  return {
    entries: sum((s) => s.entries),
    withPrefix: sum((s) => s.withPrefix),
    firstLine: lines((s) => s.firstLine, Math.min),
    lastLine: lines((s) => s.lastLine, Math.max),
    unparsable: sum((s) => s.unparsable),
    unparsableLines: states.flatMap((s) => s.unparsableLines).sort((a, b) => a - b).slice(0, UNPARSABLE_LINES_KEPT),
    warnings: states.flatMap((s) => s.warnings).sort(byLine).slice(0, UNPARSABLE_WARNINGS),
    toolMessages: states.flatMap((s) => s.toolMessages).sort(byLine).slice(0, MAX_TOOL_MESSAGES),
    withUse: sum((s) => s.withUse),
    withTimeout: sum((s) => s.withTimeout),
    under60: sum((s) => s.under60),
    under1h: sum((s) => s.under1h),
    under1d: sum((s) => s.under1d),
    atLeast1d: sum((s) => s.atLeast1d),
    nearDefault: sum((s) => s.nearDefault),
    maxTimeout: lines((s) => s.maxTimeout, Math.max),
    acctEntries: sum((s) => s.acctEntries),
    packets: sum((s) => s.packets),
    bytes: sum((s) => s.bytes),
    samples: firstKeys.map(([key, list]) => [key, list.sort(byLine).slice(0, SAMPLES_PER_STATE)]),
    counters: Object.fromEntries(counterNames.map((n) => [n, states[0]?.counters[n]])) as Record<CounterName, CounterState>,
    merged,
  };
}

function finishTable(state: ReturnType<typeof mergeStates>, path: string, cap: number, topN: number): ParseResult<ConntrackTable> {
  const { entries, withPrefix, unparsable, unparsableLines, toolMessages, merged: m } = state;
  const warnings = [...state.warnings];
  if (unparsable > UNPARSABLE_WARNINGS) {
    warnings.push({ path, message: `${unparsable} unparsable lines in total (first at lines ${unparsableLines.join(", ")})` });
  }
  for (const msg of toolMessages) {
    if (msg.flowEntriesShown !== null && msg.flowEntriesShown !== entries) {
      warnings.push({
        path,
        line: msg.provenance.line,
        message: `conntrack reported ${msg.flowEntriesShown} entries shown but ${entries} were read (capture cut or lines garbled?)`,
      });
    }
  }
  const approximate = [m.byDport, m.sources, m.destinations, m.byZone, m.byMark, m.byUse].some((c) => c.approximate);
  if (approximate) {
    warnings.push({ path, message: `more than ${cap} distinct keys in a map: its top list is a Misra-Gries estimate (approximate)` });
  }
  const all = 1000;
  const value: ConntrackTable = {
    entries,
    layout: entries === 0 ? "empty" : withPrefix === entries ? "l3-prefix" : withPrefix === 0 ? "plain" : "mixed",
    firstLine: state.firstLine,
    lastLine: state.lastLine,
    unparsable: { count: unparsable, firstLines: unparsableLines },
    byL3: m.byL3.top(all),
    byL4: m.byL4.top(all),
    byTcpState: m.byTcpState.top(all),
    byOtherState: m.byOtherState.top(all),
    byFlag: m.byFlag.top(all),
    byDestinationPort: m.byDport.top(topN),
    topSources: m.sources.top(topN),
    topDestinations: m.destinations.top(topN),
    byZone: m.byZone.top(topN),
    byMark: m.byMark.top(topN),
    use: { withField: state.withUse, byValue: m.byUse.top(topN) },
    byEvent: m.byEvent.top(all),
    timeouts: {
      withTimeout: state.withTimeout, under60s: state.under60, under1h: state.under1h, under1d: state.under1d,
      atLeast1d: state.atLeast1d, nearTcpEstablishedDefault: state.nearDefault, max: state.maxTimeout,
    },
    accounting: { entries: state.acctEntries, packets: state.packets, bytes: state.bytes },
    samples: Object.fromEntries(state.samples),
    toolMessages,
    approximate,
  };
  return { value, warnings };
}

export const create: ParserFactory<ConntrackTable> = createTableParser();

/** Counts interned names in an array by id (no Map per line); names past the interner go to the counter. */
class NameTally {
  private readonly counts = new Float64Array(512);

  constructor(
    private readonly names: NameInterner,
    readonly counter: BoundedCounter,
  ) {}

  add(id: number, name: string): void {
    if (id >= 0 && id < 512) this.counts[id] = (this.counts[id] as number) + 1;
    else this.counter.add(name);
  }

  flush(): void {
    for (let id = 0; id < this.counts.length; id++) {
      const n = this.counts[id] as number;
      const name = this.names.names[id];
      if (n > 0 && name !== undefined) this.counter.add(name, n);
    }
    this.counts.fill(0);
  }
}

function ipv4Text(k: number): string {
  return `${(k >>> 24) & 255}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

/** Canonical decimal (no leading zero) as a number, anything else as its text. */
function numberKey(buf: Uint8Array, r: ByteRange): string | number {
  const n = r.end - r.start;
  if (isDigits(buf, r.start, r.end) && (n === 1 || buf[r.start] !== 48)) return digitsValue(buf, r.start, r.end);
  return text(buf, r);
}

/** `<l4 id> << 16 | port` for a canonical port of an interned protocol, else the printed `<l4>/<port>`. */
function portKey(buf: Uint8Array, r: ByteRange, l4: string, l4Id: number): string | number {
  const key = numberKey(buf, r);
  if (typeof key === "number" && key <= 0xffff && l4Id >= 0 && l4Id < 0x7fff) return (l4Id << 16) | key;
  return `${l4}/${key}`;
}

function text(buf: Uint8Array, r: ByteRange): string {
  return Buffer.from(buf.buffer, buf.byteOffset + r.start, r.end - r.start).toString("utf8");
}
