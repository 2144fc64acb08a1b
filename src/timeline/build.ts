/**
 * The timeline: every classified kernel-log event with a wall-clock time where one can be
 * derived, repeated messages collapsed into bursts (first, last, count incl. suppressed), the
 * collection itself, the first occurrence of each symptom and the likely trigger before it.
 *
 * A 1 GB bundle makes ~80,000 bursts of which the report keeps 2,000: bursts are rows of numbers
 * in typed arrays while they are ordered, marked and ranked, and only the kept ones become events.
 */
import type { Facts, KernelEvent } from "../facts/facts.js";
import type { KlogClass } from "../parsers/kernel-log.js";
import { isSortedForStableSort, topByWeight } from "./order.js";
import type { Finding, TimelineEvent } from "../report/schema.js";

/** Classes that are symptoms of a problem, and the finding each belongs to. */
export const SYMPTOM_FINDING: Partial<Record<KlogClass, string>> = {
  "ct-table-full": "conntrack-table-full",
  "ct-expect-full": "conntrack-expect-table-full",
  "neigh-overflow": "neighbour-table-overflow",
  "ipset-full": "ipset-oversized",
  "ipset-hash-full": "ipset-oversized",
  "alloc-failure": "conntrack-memory-pressure",
  "oom-kill": "conntrack-memory-pressure",
  "ipt-restore-failed": "iptables-restore-failed",
  "ipt-enomem": "ruleset-too-large",
  "ipt-load-error": "missing-extension-module",
  "ipt-extension-unsupported": "missing-extension-module",
  "ipt-no-such": "missing-extension-module",
  "modprobe-not-found": "missing-extension-module",
  "ipt-table-init": "conntrack-module-blocked",
  "modprobe-install-error": "conntrack-module-blocked",
  "sysctl-write-failed": "conntrack-sysctl-not-applied",
  "unit-failed": "iptables-restore-failed",
  "log-packet": "log-rule-flood",
  "xt-error": "missing-extension-module",
};

/** Events that can start a problem: modules loading, tables being created. */
const TRIGGER_CLASSES = new Set<KlogClass>(["ct-banner", "module-banner", "ct-helper-notice", "ct-vmalloc-fallback"]);
const IGNORED = new Set<KlogClass>(["other", "ratelimit-summary", "alloc-trace", "kernel-version"]);

const BURST_GAP_SECONDS = 60;
const MAX_EVENTS = 2000;

type Mark = TimelineEvent["marks"][number];

export interface Timeline {
  events: TimelineEvent[];
  omitted: number;
  bootTimeSource?: string;
  caveats: string[];
}

export function buildTimeline(facts: Facts, findings: Finding[]): Timeline {
  const collection = collectionEvent(facts);
  const rows = collectRows(facts, collection);
  const order = timeOrder(rows);
  const marks = markFirstSymptoms(order, (row) => rows.cls[row]!);
  if (collection) marks.set(rows.bursts, collection.marks);

  const caveats: string[] = [];
  if (rows.qualities.has("derived"))
    caveats.push(`dmesg times are boot time (${facts.bootTime?.source ?? "unknown"}) plus uptime: they drift after a suspend/resume and by any clock change since boot.`);
  if (rows.qualities.has("inferred")) caveats.push("syslog lines carry no year; it was inferred from the collection date (a line after the collection month belongs to the year before).");
  if (rows.qualities.has("unknown")) caveats.push("some events have no wall-clock time (no boot time in the bundle); they are ordered by uptime.");

  const omitted = Math.max(0, rows.size - MAX_EVENTS);
  const shown = omitted > 0 ? keepImportant(order, marks, rows, MAX_EVENTS) : order;
  const found = new Set(findings.map((f) => f.id));
  const events = shown.map((row) => (row < rows.bursts ? burstEvent(facts.kernelMessages, rows, row, marks.get(row) ?? [], found) : (collection as TimelineEvent)));
  return {
    events,
    omitted,
    ...(facts.bootTime ? { bootTimeSource: facts.bootTime.source } : {}),
    caveats,
  };
}

/**
 * The timeline's rows: the bursts (runs of one repeated message), then the collection when there
 * is one. Message fields are read from a burst's first message when it becomes an event.
 */
interface Rows {
  size: number;
  bursts: number;
  /** Index in facts.kernelMessages of the burst's first, last timed and last uptime message (−1: none after the first). */
  first: Int32Array;
  lastTimed: Int32Array;
  lastWithUptime: Int32Array;
  count: Float64Array;
  suppressed: Float64Array;
  cls: string[];
  /** The row's time in ms (NaN without one) and whether it has one; its uptime and whether it has one. */
  timeMs: Float64Array;
  timed: Uint8Array;
  uptime: Float64Array;
  hasUptime: Uint8Array;
  /** Time qualities of the events, for the caveats. */
  qualities: Set<KernelEvent["timeQuality"]>;
}

function emptyRows(capacity: number): Rows {
  return {
    size: 0,
    bursts: 0,
    first: new Int32Array(capacity),
    lastTimed: new Int32Array(capacity),
    lastWithUptime: new Int32Array(capacity),
    count: new Float64Array(capacity),
    suppressed: new Float64Array(capacity),
    cls: [],
    timeMs: new Float64Array(capacity),
    timed: new Uint8Array(capacity),
    uptime: new Float64Array(capacity),
    hasUptime: new Uint8Array(capacity),
    qualities: new Set(),
  };
}

/** Repeats of one message differ only in addresses, ports and counters: they burst together. */
function collectRows(facts: Facts, collection: TimelineEvent | undefined): Rows {
  const messages = facts.kernelMessages;
  const { wallMs, textIds, textCount } = facts.kernelMessageKeys;
  const b = emptyRows(messages.length + 1);
  // A text's burst key is made once; equal keys are one string, so comparing them is cheap.
  const keyOfText: (string | undefined)[] = new Array(textCount);
  const keys = new Map<string, string>();
  let open = -1;
  let openKey = "";
  let openSource = "";
  let openLastSec: number | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as KernelEvent;
    if (IGNORED.has(m.class)) continue;
    let key: string;
    if (m.class === "log-packet") key = m.fields.prefix ?? "";
    else {
      const id = textIds[i] as number;
      key = keyOfText[id] ?? (keyOfText[id] = internedKey(keys, m.text.replace(/\d+/g, "#")));
    }
    const timed = !!m.wallTime;
    const sec = timed ? (wallMs[i] as number) / 1000 : m.uptime;
    if (open >= 0 && openKey === key && b.cls[open] === m.class && openSource === m.sourceId && (sec === undefined || openLastSec === undefined || sec - openLastSec <= BURST_GAP_SECONDS)) {
      b.count[open]! += 1;
      b.suppressed[open]! += m.suppressed;
      if (timed) b.lastTimed[open] = i;
      if (m.uptime !== undefined) b.lastWithUptime[open] = i;
      openLastSec = sec ?? openLastSec;
      continue;
    }
    open = b.size++;
    b.first[open] = i;
    b.lastTimed[open] = -1;
    b.lastWithUptime[open] = -1;
    b.count[open] = 1;
    b.suppressed[open] = m.suppressed;
    b.cls.push(m.class);
    b.timeMs[open] = wallMs[i] as number;
    b.timed[open] = timed ? 1 : 0;
    if (m.uptime !== undefined) {
      b.hasUptime[open] = 1;
      b.uptime[open] = m.uptime;
    }
    b.qualities.add(m.timeQuality);
    openKey = key;
    openSource = m.sourceId;
    openLastSec = sec;
  }
  b.bursts = b.size;
  if (collection) {
    const row = b.size++;
    b.count[row] = 1;
    b.cls.push(collection.class);
    b.timeMs[row] = Date.parse(collection.time!);
    b.timed[row] = 1;
    b.qualities.add(collection.timeQuality);
  }
  return b;
}

function internedKey(keys: Map<string, string>, key: string): string {
  const known = keys.get(key);
  if (known !== undefined) return known;
  keys.set(key, key);
  return key;
}

function collectionEvent(facts: Facts): TimelineEvent | undefined {
  const collected = facts.collectedAt;
  if (!collected) return undefined;
  return {
    time: collected.toISOString(),
    timeQuality: "exact",
    class: "collection",
    text: "bundle collected",
    source: facts.first("collector-manifest") ? "collector-manifest" : facts.first("date") ? "date" : "sos-manifest",
    path: facts.first("collector-manifest")?.path ?? facts.first("date")?.path ?? facts.first("sos-manifest")?.path ?? "",
    count: 1,
    suppressed: 0,
    marks: ["collection"],
    findingIds: [],
  };
}

/**
 * Rows by wall time, else uptime, untimed events first: a stable sort, skipped when the merged
 * log's order already is this one (it usually is).
 */
function timeOrder(rows: Rows): number[] {
  const { timed, timeMs, hasUptime, uptime } = rows;
  const compare = (x: number, y: number): number => {
    if (timed[x] && timed[y]) return (timeMs[x] as number) - (timeMs[y] as number);
    if (hasUptime[x] && hasUptime[y]) return (uptime[x] as number) - (uptime[y] as number);
    if (timed[x] && !timed[y]) return 1;
    if (!timed[x] && timed[y]) return -1;
    return 0;
  };
  const order = new Array<number>(rows.size);
  for (let r = 0; r < rows.size; r++) order[r] = r;
  if (!isSortedForStableSort(order, compare)) order.sort(compare);
  return order;
}

/** Marks each symptom class's first event, and the nearest trigger event before it. Returns the marks by row. */
function markFirstSymptoms(order: readonly number[], classOf: (row: number) => string): Map<number, Mark[]> {
  const marks = new Map<number, Mark[]>();
  const mark = (row: number, label: Mark): void => {
    const list = marks.get(row);
    if (!list) marks.set(row, [label]);
    else if (!list.includes(label)) list.push(label);
  };
  const seenClasses = new Set<string>();
  for (let i = 0; i < order.length; i++) {
    const cls = classOf(order[i]!);
    if (!SYMPTOM_FINDING[cls as KlogClass] || cls === "log-packet" || seenClasses.has(cls)) continue;
    seenClasses.add(cls);
    mark(order[i]!, "first-symptom");
    for (let j = i - 1; j >= 0; j--) {
      if (TRIGGER_CLASSES.has(classOf(order[j]!) as KlogClass)) {
        mark(order[j]!, "likely-trigger");
        break;
      }
    }
  }
  return marks;
}

/**
 * Keeps marked events and the biggest bursts (count + suppressed), in time order: the first `max`
 * of a stable sort by number of marks, then size, descending.
 */
function keepImportant(order: readonly number[], marks: Map<number, Mark[]>, rows: Rows, max: number): number[] {
  const weightOf = (row: number): number => rows.count[row]! + rows.suppressed[row]!;
  if (marks.size >= max) {
    const ranked = [...order].sort((x, y) => (marks.get(y)?.length ?? 0) - (marks.get(x)?.length ?? 0) || weightOf(y) - weightOf(x));
    const keep = new Set(ranked.slice(0, max));
    return order.filter((row) => keep.has(row));
  }
  // Every marked event ranks above every unmarked one: the rest of the places go by size.
  const kept = new Uint8Array(order.length);
  for (const row of marks.keys()) kept[row] = 1;
  const unmarked: number[] = [];
  const weights: number[] = [];
  for (const row of order) {
    if (kept[row]) continue;
    unmarked.push(row);
    weights.push(weightOf(row));
  }
  const biggest = topByWeight(weights, max - marks.size);
  for (let i = 0; i < unmarked.length; i++) if (biggest[i]) kept[unmarked[i]!] = 1;
  const out: number[] = [];
  for (const row of order) if (kept[row]) out.push(row);
  return out;
}

/** The report's event for one burst, built field by field in the report's key order. */
function burstEvent(messages: readonly KernelEvent[], b: Rows, row: number, marks: Mark[], found: Set<string>): TimelineEvent {
  const m = messages[b.first[row]!] as KernelEvent;
  const finding = SYMPTOM_FINDING[m.class];
  const ev = {} as TimelineEvent;
  if (m.wallTime) ev.time = m.wallTime;
  if (m.uptime !== undefined) ev.uptime = m.uptime;
  ev.timeQuality = m.timeQuality;
  ev.class = m.class;
  ev.text = m.text.length > 300 ? `${m.text.slice(0, 300)}…` : m.text;
  ev.source = m.sourceId;
  ev.path = m.provenance.path;
  ev.line = m.provenance.line;
  ev.count = b.count[row]!;
  ev.suppressed = b.suppressed[row]!;
  ev.marks = marks;
  ev.findingIds = finding && found.has(finding) ? [finding] : [];
  const lastTimed = b.lastTimed[row]!;
  if (lastTimed >= 0) ev.lastTime = (messages[lastTimed] as KernelEvent).wallTime!;
  const lastWithUptime = b.lastWithUptime[row]!;
  if (lastWithUptime >= 0) ev.lastUptime = (messages[lastWithUptime] as KernelEvent).uptime!;
  return ev;
}
