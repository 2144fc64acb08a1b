/**
 * report.html: one self-contained file (inline CSS, inline SVG, no script, no external request,
 * CSP `default-src 'none'`), printable, readable on a phone, light and dark.
 *
 * Everything from the bundle reaches the page through Handlebars' `{{ }}`; the only unescaped
 * markup is the timeline SVG built in `timeline-svg.ts`, which escapes every string it embeds.
 * Long content is capped; if a report still renders above the size budget the caps are tightened
 * and it is rendered again, so report.html stays under 2 MB.
 */
import type { Evidence, Finding, Fix, Report, TimelineEvent } from "../report/schema.js";
import {
  SEVERITY_LABEL,
  findingById,
  humanBytes,
  location,
  orderedFindings,
  orderedFixes,
  pct,
  showTime,
  signed,
} from "./common.js";
import { cut, splitExcerpt, visibleControls } from "./escape.js";
import { loadTemplates } from "./templates.js";
import { renderTimelineSvg } from "./timeline-svg.js";

/** Hard ceiling for report.html. */
export const HTML_MAX_BYTES = 2 * 1024 * 1024;
/** Target the caps aim for (some headroom under the ceiling). */
const HTML_BUDGET_BYTES = Math.floor(1.9 * 1024 * 1024);

export interface HtmlCaps {
  findings: number;
  evidencePerFinding: number;
  excerptChars: number;
  fixes: number;
  linesPerFixGroup: number;
  commandChars: number;
  proseChars: number;
  timelineRows: number;
  timelineTextChars: number;
  sources: number;
  pathsPerSource: number;
  warnings: number;
  metrics: number;
  listItems: number;
}

export const DEFAULT_HTML_CAPS: HtmlCaps = {
  findings: 40,
  evidencePerFinding: 12,
  excerptChars: 500,
  fixes: 40,
  linesPerFixGroup: 20,
  commandChars: 1500,
  proseChars: 2000,
  timelineRows: 300,
  timelineTextChars: 300,
  sources: 300,
  pathsPerSource: 3,
  warnings: 200,
  metrics: 40,
  listItems: 20,
};

function tighten(c: HtmlCaps): HtmlCaps {
  const h = (n: number, min: number): number => Math.max(min, Math.floor(n / 2));
  return {
    findings: h(c.findings, 5),
    evidencePerFinding: h(c.evidencePerFinding, 3),
    excerptChars: h(c.excerptChars, 120),
    fixes: h(c.fixes, 5),
    linesPerFixGroup: h(c.linesPerFixGroup, 5),
    commandChars: h(c.commandChars, 300),
    proseChars: h(c.proseChars, 400),
    timelineRows: h(c.timelineRows, 50),
    timelineTextChars: h(c.timelineTextChars, 120),
    sources: h(c.sources, 50),
    pathsPerSource: h(c.pathsPerSource, 1),
    warnings: h(c.warnings, 20),
    metrics: h(c.metrics, 10),
    listItems: h(c.listItems, 5),
  };
}

// ---------------------------------------------------------------- view model

const anchorPart = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 60);

interface LineGroup {
  lines: string[];
  text: string;
  more: number;
}

/** Number.toLocaleString with options builds a formatter per call (~30 µs): this one is made once. */
let metricFormat: Intl.NumberFormat | undefined;
const metricNumber = (v: number): string => (metricFormat ??= new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 })).format(v);

function lineGroup(lines: readonly string[], caps: HtmlCaps): LineGroup {
  const shown = lines.slice(0, caps.linesPerFixGroup).map((l) => cut(l, caps.commandChars));
  return { lines: shown, text: shown.join("\n"), more: lines.length - shown.length };
}

function capList(items: readonly string[], max: number, chars: number): { items: string[]; more: number } {
  return { items: items.slice(0, max).map((s) => cut(s, chars)), more: Math.max(0, items.length - max) };
}

function evidenceView(e: Evidence, caps: HtmlCaps) {
  const parts = splitExcerpt(e.text, e.highlight, caps.excerptChars);
  return {
    where: location(e.path, e.line, e.lastLine),
    source: e.source,
    note: e.note === undefined ? null : cut(e.note, caps.proseChars),
    before: parts.before,
    mark: parts.mark === "" ? null : parts.mark,
    after: parts.after,
    cut: parts.cut,
  };
}

export function buildHtmlView(report: Report, caps: HtmlCaps = DEFAULT_HTML_CAPS) {
  const findingsAll = orderedFindings(report);
  const anchorOf = new Map<string, string>();
  findingsAll.forEach((f, i) => {
    if (!anchorOf.has(f.id)) anchorOf.set(f.id, `finding-${i + 1}-${anchorPart(f.id)}`);
  });
  const findingRef = (id: string) => {
    const f = findingById(report, id);
    return { id, title: f ? cut(f.title, 200) : null, anchor: anchorOf.get(id) ?? null };
  };

  const fixesAll = orderedFixes(report);
  const fixesShown = fixesAll.slice(0, caps.fixes);
  const fixAnchor = new Map<Fix, string>();
  fixesAll.forEach((fx, i) => fixAnchor.set(fx, `fix-${i + 1}`));
  const fixes = fixesShown.map((fx, i) => ({
    n: fx.rank ?? i + 1,
    anchor: fixAnchor.get(fx) ?? `fix-${i + 1}`,
    title: cut(fx.title, caps.proseChars),
    rationale: fx.rationale === undefined ? null : cut(fx.rationale, caps.proseChars),
    finding: fx.findingId === undefined ? null : findingRef(fx.findingId),
    cure: pct(fx.cureLikelihood),
    risk: cut(fx.risk, caps.proseChars),
    commands: fx.commands.length > 0 ? lineGroup(fx.commands, caps) : null,
    persist: fx.persist.length > 0 ? lineGroup(fx.persist, caps) : null,
    verify: fx.verify.length > 0 ? lineGroup(fx.verify, caps) : null,
    rollback: fx.rollback.length > 0 ? lineGroup(fx.rollback, caps) : null,
  }));

  /** The report-level fix matching a finding's own fix (same title, same finding), for a link. */
  const fixLinkFor = (f: Finding, fx: Fix) => {
    const m = fixesAll.find((r) => r.title === fx.title && (r.findingId === undefined || r.findingId === f.id));
    const shown = m !== undefined && fixesShown.includes(m);
    return { title: cut(fx.title, 300), anchor: shown && m ? (fixAnchor.get(m) ?? null) : null, cure: pct(fx.cureLikelihood) };
  };

  const findings = findingsAll.slice(0, caps.findings).map((f, i) => {
    const metricEntries = Object.entries(f.metrics);
    return {
      n: f.rank ?? i + 1,
      anchor: anchorOf.get(f.id) ?? `finding-${i + 1}`,
      id: f.id,
      title: cut(f.title, caps.proseChars),
      category: f.category,
      severity: f.severity,
      severityLabel: SEVERITY_LABEL[f.severity],
      confidence: pct(f.confidence),
      summary: cut(f.summary, caps.proseChars),
      mechanism: cut(f.mechanism, caps.proseChars * 2),
      firstSeen: f.firstSeen === undefined ? null : showTime(f.firstSeen),
      lastSeen: f.lastSeen === undefined ? null : showTime(f.lastSeen),
      evidence: f.evidence.slice(0, caps.evidencePerFinding).map((e) => evidenceView(e, caps)),
      evidenceMore: Math.max(0, f.evidence.length - caps.evidencePerFinding),
      evidenceTotal: f.evidence.length,
      ruledOutBy: capList(f.ruledOutBy, caps.listItems, caps.proseChars),
      reasons: f.confidenceReasons.slice(0, caps.listItems).map((r) => ({
        delta: signed(r.delta),
        negative: r.delta < 0,
        reason: cut(r.reason, caps.proseChars),
      })),
      reasonsMore: Math.max(0, f.confidenceReasons.length - caps.listItems),
      causedBy: f.causedBy.slice(0, caps.listItems).map(findingRef),
      explains: f.explains.slice(0, caps.listItems).map(findingRef),
      hasChain: f.causedBy.length + f.explains.length > 0,
      fixes: f.fixes.slice(0, caps.listItems).map((fx) => fixLinkFor(f, fx)),
      metrics: metricEntries.slice(0, caps.metrics).map(([k, v]) => ({
        key: cut(k, 120),
        numeric: typeof v === "number" || typeof v === "boolean",
        value: v === null ? "—" : typeof v === "number" ? metricNumber(v) : cut(String(v), 300),
      })),
      metricsMore: Math.max(0, metricEntries.length - caps.metrics),
    };
  });

  const top = findingById(report, report.verdict.findingId);
  const verdict = {
    severity: report.verdict.severity,
    severityLabel: SEVERITY_LABEL[report.verdict.severity],
    confidence: pct(report.verdict.confidence),
    sentence: cut(report.verdict.sentence, caps.proseChars),
    finding: top ? findingRef(top.id) : null,
    explains: top ? top.explains.slice(0, 5).map(findingRef) : [],
    topFix: fixes[0] ?? null,
    counts: {
      findings: report.findings.length,
      fixes: report.fixes.length,
      evidence: report.findings.reduce((a, f) => a + f.evidence.length, 0),
    },
  };

  const tl = renderTimelineSvg(report.timeline.events);
  // Time column: the clock time, the date only when it changes; the zone once in the header
  // when every shown event has the same one.
  const picked = pickTimelineRows(report.timeline.events, caps.timelineRows);
  const parsedTimes = picked.map((ev) => (ev.time === undefined ? undefined : splitIso(ev.time)));
  const zones = new Set(parsedTimes.filter((p) => p !== undefined).map((p) => p.zone));
  const oneZone = zones.size === 1 ? ([...zones][0] ?? null) : null;
  let lastDay = "";
  const rows = picked.map((ev, i) => {
    const pt = parsedTimes[i];
    let time: string;
    let day: string | null = null;
    if (pt) {
      time = oneZone !== null ? pt.clock : `${pt.clock} ${pt.zone}`.trim();
      if (pt.day !== lastDay) day = pt.day;
      lastDay = pt.day;
    } else if (ev.time !== undefined) time = ev.time;
    else if (ev.uptime !== undefined) time = `+${ev.uptime.toFixed(3)} s`;
    else time = "—";
    const lt = ev.count > 1 && ev.lastTime !== undefined ? splitIso(ev.lastTime) : undefined;
    return {
      day,
      time,
      lastTime: lt ? (lt.day === pt?.day ? lt.clock : `${lt.day} ${lt.clock}`) : ev.count > 1 && ev.lastTime !== undefined ? ev.lastTime : null,
      quality: ev.timeQuality === "exact" ? null : ev.timeQuality,
      cls: ev.class,
      colour: tl.classes.find((c) => c.name === ev.class)?.cls ?? "tl-cx",
      text: cut(ev.text, caps.timelineTextChars),
      where: location(ev.path, ev.line),
      count: ev.count > 1 ? ev.count.toLocaleString("en-US") : null,
      suppressed: ev.suppressed > 0 ? ev.suppressed.toLocaleString("en-US") : null,
      marks: ev.marks.map((m) => ({ mark: m, label: m.replace("-", " ") })),
      findings: ev.findingIds.slice(0, 4).map(findingRef),
    };
  });
  const timeline = {
    svg: tl.svg,
    hasSvg: tl.svg !== "",
    binLabel: tl.binLabel,
    axisLabel: tl.axisLabel,
    zone: oneZone === null || oneZone === "" ? null : oneZone === "Z" ? "UTC" : `UTC${oneZone}`,
    unplaced: tl.unplaced,
    rows,
    total: report.timeline.events.length,
    leftOutHere: report.timeline.events.length - rows.length,
    omittedByEngine: report.timeline.omitted,
    bootTimeSource: report.timeline.bootTimeSource ?? null,
    caveats: capList(report.timeline.caveats, caps.listItems, caps.proseChars),
  };

  const b = report.bundle;
  const byStatus = (st: string[]) => {
    const all = b.sources.filter((s) => st.includes(s.status));
    return {
      rows: all.slice(0, caps.sources).map((s) => ({
        id: s.id,
        status: s.status,
        paths: capList(s.paths, caps.pathsPerSource, 300),
        bytes: humanBytes(s.bytes),
        reason: s.reason === undefined ? null : cut(s.reason, caps.proseChars),
      })),
      count: all.length,
      more: Math.max(0, all.length - caps.sources),
    };
  };
  const bundle = {
    hostname: b.hostname ?? null,
    kernel: b.kernel ?? null,
    distro: b.distro ?? null,
    collectedAt: b.collectedAt === undefined ? null : showTime(b.collectedAt),
    bootTime: b.bootTime === undefined ? null : showTime(b.bootTime),
    input: cut(b.input, 500),
    container: b.container,
    layout: b.layout,
    found: byStatus(["found"]),
    problems: byStatus(["truncated", "error"]),
    skipped: byStatus(["skipped"]),
    absent: byStatus(["absent"]),
  };
  const warnings = {
    items: report.warnings.slice(0, caps.warnings).map((w) => ({
      code: w.code,
      message: cut(w.message, caps.proseChars),
      where: w.path === undefined ? null : location(w.path, w.line),
    })),
    more: Math.max(0, report.warnings.length - caps.warnings),
  };

  return {
    title: `nfdiag: ${b.hostname ?? "bundle"} — ${SEVERITY_LABEL[report.verdict.severity]}`,
    host: b.hostname ?? null,
    tool: report.tool,
    schemaVersion: report.schemaVersion,
    generatedAt: showTime(report.generatedAt),
    verdict,
    fixes,
    fixesMore: Math.max(0, fixesAll.length - fixesShown.length),
    findings,
    findingsMore: Math.max(0, findingsAll.length - findings.length),
    timeline,
    bundle,
    warnings,
  };
}

/** "2025-11-20T14:38:35.123+01:00" → day, clock "14:38:35", zone "+01:00" / "Z" / "". */
function splitIso(iso: string): { day: string; clock: string; zone: string } | undefined {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(iso.trim());
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { day: m[1], clock: m[2], zone: m[3] ?? "" };
}

/**
 * Picks at most `max` events for the table, in their original order: marked events and events
 * tied to a finding first, then the others from the start.
 */
function pickTimelineRows(events: readonly TimelineEvent[], max: number): TimelineEvent[] {
  if (events.length <= max) return [...events];
  const keep = new Set<number>();
  events.forEach((e, i) => {
    if (keep.size < max && e.marks.length > 0) keep.add(i);
  });
  events.forEach((e, i) => {
    if (keep.size < max && e.findingIds.length > 0) keep.add(i);
  });
  for (let i = 0; i < events.length && keep.size < max; i++) keep.add(i);
  return [...keep].sort((a, b) => a - b).map((i) => events[i] as TimelineEvent);
}

// ---------------------------------------------------------------- render

/** Renders the report as one self-contained HTML document (under 2 MB). */
export function renderHtml(report: Report): string {
  const t = loadTemplates();
  let caps = DEFAULT_HTML_CAPS;
  let html = t.html(buildHtmlView(report, caps));
  for (let i = 0; i < 6 && Buffer.byteLength(html, "utf8") > HTML_BUDGET_BYTES; i++) {
    caps = tighten(caps);
    html = t.html(buildHtmlView(report, caps));
  }
  return visibleControls(html);
}
