/**
 * The timeline: every classified kernel-log event with a wall-clock time where one can be
 * derived, repeated messages collapsed into bursts (first, last, count incl. suppressed), the
 * collection itself, the first occurrence of each symptom and the likely trigger before it.
 */
import type { Facts, KernelEvent } from "../facts/facts.js";
import type { KlogClass } from "../parsers/kernel-log.js";
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

export interface Timeline {
  events: TimelineEvent[];
  omitted: number;
  bootTimeSource?: string;
  caveats: string[];
}

export function buildTimeline(facts: Facts, findings: Finding[]): Timeline {
  const found = new Set(findings.map((f) => f.id));
  const events: TimelineEvent[] = [];
  /** Each event's time in ms (NaN without one), read once: the sort compares numbers, not ISO strings. */
  const timeMs = new Map<TimelineEvent, number>();
  const burstKeys = new Map<string, string>();
  let open: { ev: TimelineEvent; sourceId: string; cls: string; burst: string; lastSec: number | undefined } | undefined;
  for (const m of facts.kernelMessages) {
    if (IGNORED.has(m.class)) continue;
    // Many messages repeat one text: its burst key (a regex over the text) is made once.
    let bk = m.class === "log-packet" ? undefined : burstKeys.get(m.text);
    if (bk === undefined) {
      bk = burstKey(m);
      if (m.class !== "log-packet" && burstKeys.size < 100_000) burstKeys.set(m.text, bk);
    }
    const wallMs = m.wallTime ? Date.parse(m.wallTime) : Number.NaN;
    const sec = m.wallTime ? wallMs / 1000 : m.uptime;
    if (open && open.burst === bk && open.cls === m.class && open.sourceId === m.sourceId && (sec === undefined || open.lastSec === undefined || sec - open.lastSec <= BURST_GAP_SECONDS)) {
      open.ev.count += 1;
      open.ev.suppressed += m.suppressed;
      if (m.wallTime) open.ev.lastTime = m.wallTime;
      if (m.uptime !== undefined) open.ev.lastUptime = m.uptime;
      open.lastSec = sec ?? open.lastSec;
      continue;
    }
    const finding = SYMPTOM_FINDING[m.class];
    // Built field by field (no object spreads: 100,000s of messages), in the report's key order.
    const ev = {} as TimelineEvent;
    if (m.wallTime) ev.time = m.wallTime;
    if (m.uptime !== undefined) ev.uptime = m.uptime;
    ev.timeQuality = m.timeQuality;
    ev.class = m.class;
    ev.text = m.text.length > 300 ? `${m.text.slice(0, 300)}…` : m.text;
    ev.source = m.sourceId;
    ev.path = m.provenance.path;
    ev.line = m.provenance.line;
    ev.count = 1;
    ev.suppressed = m.suppressed;
    ev.marks = [];
    ev.findingIds = finding && found.has(finding) ? [finding] : [];
    events.push(ev);
    timeMs.set(ev, wallMs);
    open = { ev, sourceId: m.sourceId, cls: m.class, burst: bk, lastSec: sec };
  }

  const collected = facts.collectedAt;
  if (collected) {
    events.push({
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
    });
  }
  sortByTime(events, timeMs);
  markFirstSymptoms(events);

  const caveats: string[] = [];
  if (events.some((e) => e.timeQuality === "derived"))
    caveats.push(`dmesg times are boot time (${facts.bootTime?.source ?? "unknown"}) plus uptime: they drift after a suspend/resume and by any clock change since boot.`);
  if (events.some((e) => e.timeQuality === "inferred")) caveats.push("syslog lines carry no year; it was inferred from the collection date (a line after the collection month belongs to the year before).");
  if (events.some((e) => e.timeQuality === "unknown")) caveats.push("some events have no wall-clock time (no boot time in the bundle); they are ordered by uptime.");

  const omitted = Math.max(0, events.length - MAX_EVENTS);
  return {
    events: omitted > 0 ? keepImportant(events, MAX_EVENTS) : events,
    omitted,
    ...(facts.bootTime ? { bootTimeSource: facts.bootTime.source } : {}),
    caveats,
  };
}

/** Repeats of one message differ only in addresses, ports and counters: burst them together. */
function burstKey(m: KernelEvent): string {
  if (m.class === "log-packet") return m.fields.prefix ?? "";
  return m.text.replace(/\d+/g, "#");
}

/** By wall time, else uptime, untimed events first; each event's time parsed once, not per comparison. */
function sortByTime(events: TimelineEvent[], timeMs: Map<TimelineEvent, number>): void {
  const ms = (e: TimelineEvent): number => timeMs.get(e) ?? (e.time ? Date.parse(e.time) : Number.NaN);
  const keyed = events.map((e) => ({ e, t: ms(e) }));
  keyed.sort((a, b) => compareKeyed(a.e, a.t, b.e, b.t));
  keyed.forEach((k, i) => (events[i] = k.e));
}

function compareKeyed(a: TimelineEvent, ta: number, b: TimelineEvent, tb: number): number {
  if (a.time && b.time) return ta - tb;
  if (a.uptime !== undefined && b.uptime !== undefined) return a.uptime - b.uptime;
  if (a.time && !b.time) return 1;
  if (!a.time && b.time) return -1;
  return 0;
}

function markFirstSymptoms(events: TimelineEvent[]): void {
  const seenClasses = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!SYMPTOM_FINDING[e.class as KlogClass] || e.class === "log-packet" || seenClasses.has(e.class)) continue;
    seenClasses.add(e.class);
    e.marks.push("first-symptom");
    for (let j = i - 1; j >= 0; j--) {
      const t = events[j]!;
      if (TRIGGER_CLASSES.has(t.class as KlogClass)) {
        if (!t.marks.includes("likely-trigger")) t.marks.push("likely-trigger");
        break;
      }
    }
  }
}

/** Keeps marked events and the biggest bursts, in time order. */
function keepImportant(events: TimelineEvent[], max: number): TimelineEvent[] {
  const ranked = [...events].sort((a, b) => b.marks.length - a.marks.length || b.count + b.suppressed - (a.count + a.suppressed));
  const keep = new Set(ranked.slice(0, max));
  return events.filter((e) => keep.has(e));
}
