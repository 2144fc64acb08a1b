/**
 * report.md (and `--brief`): the verdict, ranked fixes and findings with evidence, for a ticket
 * comment on GitHub / GitLab / Jira (Markdown editor). Fenced code blocks for commands and
 * excerpts; bundle text in running text and table cells is Markdown-escaped (`mdText`, `mdCell`),
 * in code spans / fences it is literal (`mdCode`, `mdFence` pick a fence longer than any backtick
 * run inside). No HTML is emitted at all.
 *
 * The templates are compiled with `noEscape`: every string in the view below is already escaped
 * for Markdown, and the view holds nothing else.
 */
import type { Evidence, Finding, Fix, Report, TimelineEvent } from "../report/schema.js";
import {
  SEVERITY_LABEL,
  findingById,
  location,
  orderedFindings,
  orderedFixes,
  pct,
  showTime,
  signed,
} from "./common.js";
import { cut, mdCell, mdCode, mdFence, mdText, visibleControls } from "./escape.js";
import { loadTemplates } from "./templates.js";

export interface MarkdownOptions {
  /** A short summary (under 60 lines) instead of the full report. */
  brief?: boolean;
}

/** GitHub rejects comments above 65536 characters; the full Markdown aims below this. */
export const MARKDOWN_MAX_CHARS = 60_000;
export const BRIEF_MAX_LINES = 59;

interface MdCaps {
  findings: number;
  evidence: number;
  excerptChars: number;
  excerptLines: number;
  fixes: number;
  linesPerGroup: number;
  commandChars: number;
  prose: number;
  timelineRows: number;
  sources: number;
  warnings: number;
  listItems: number;
}

const FULL_CAPS: MdCaps = {
  findings: 20,
  evidence: 8,
  excerptChars: 400,
  excerptLines: 8,
  fixes: 15,
  linesPerGroup: 15,
  commandChars: 600,
  prose: 1200,
  timelineRows: 25,
  sources: 40,
  warnings: 30,
  listItems: 8,
};

function tighten(c: MdCaps): MdCaps {
  const h = (n: number, min: number): number => Math.max(min, Math.floor(n / 2));
  return {
    findings: h(c.findings, 3),
    evidence: h(c.evidence, 2),
    excerptChars: h(c.excerptChars, 100),
    excerptLines: h(c.excerptLines, 2),
    fixes: h(c.fixes, 3),
    linesPerGroup: h(c.linesPerGroup, 3),
    commandChars: h(c.commandChars, 200),
    prose: h(c.prose, 200),
    timelineRows: h(c.timelineRows, 5),
    sources: h(c.sources, 5),
    warnings: h(c.warnings, 5),
    listItems: h(c.listItems, 3),
  };
}

const t = (s: string, max: number): string => mdText(cut(s, max));

/** Lines of a command group, each cut, at most `max`, with a shell comment saying what was left out. */
function commandBlock(lines: readonly string[], caps: MdCaps): string {
  const flat = lines.flatMap((l) => l.split("\n"));
  const shown = flat.slice(0, caps.linesPerGroup).map((l) => cut(l, caps.commandChars));
  if (flat.length > shown.length) shown.push(`# … ${flat.length - shown.length} more lines in report.json`);
  return mdFence(shown, "sh");
}

function excerptBlock(e: Evidence, caps: MdCaps): string {
  const lines = e.text.split("\n");
  const shown = lines.slice(0, caps.excerptLines).map((l) => cut(l, caps.excerptChars));
  if (lines.length > shown.length) shown.push(`…(${lines.length - shown.length} more lines)`);
  return mdFence(shown);
}

function findingLabel(report: Report, id: string): string {
  const f = findingById(report, id);
  return f ? `${t(f.title, 200)} (${mdCode(id)})` : mdCode(id);
}

function fixView(report: Report, fx: Fix, i: number, caps: MdCaps) {
  return {
    n: fx.rank ?? i + 1,
    title: t(fx.title, caps.prose),
    finding: fx.findingId === undefined ? null : mdCode(fx.findingId),
    cure: pct(fx.cureLikelihood),
    risk: t(fx.risk, caps.prose),
    rationale: fx.rationale === undefined ? null : t(fx.rationale, caps.prose),
    commands: fx.commands.length > 0 ? commandBlock(fx.commands, caps) : null,
    persist: fx.persist.length > 0 ? commandBlock(fx.persist, caps) : null,
    verify: fx.verify.length > 0 ? commandBlock(fx.verify, caps) : null,
    rollback: fx.rollback.length > 0 ? commandBlock(fx.rollback, caps) : null,
  };
}

function findingView(report: Report, f: Finding, i: number, caps: MdCaps) {
  return {
    n: f.rank ?? i + 1,
    id: mdCode(f.id),
    title: t(f.title, caps.prose),
    severity: SEVERITY_LABEL[f.severity].toUpperCase(),
    confidence: pct(f.confidence),
    summary: t(f.summary, caps.prose),
    mechanism: t(f.mechanism, caps.prose * 2),
    firstSeen: f.firstSeen === undefined ? null : mdText(showTime(f.firstSeen)),
    causedBy: f.causedBy.length > 0 ? f.causedBy.slice(0, caps.listItems).map((id) => findingLabel(report, id)).join(", ") : null,
    explains: f.explains.length > 0 ? f.explains.slice(0, caps.listItems).map((id) => findingLabel(report, id)).join(", ") : null,
    evidence: f.evidence.slice(0, caps.evidence).map((e, j) => ({
      n: j + 1,
      where: mdCode(location(e.path, e.line, e.lastLine)),
      source: mdText(e.source),
      matched: e.highlight !== undefined && e.highlight !== "" ? mdCode(cut(e.highlight, 200)) : null,
      note: e.note === undefined ? null : t(e.note, caps.prose),
      block: excerptBlock(e, caps),
    })),
    evidenceTotal: f.evidence.length,
    evidenceMore: Math.max(0, f.evidence.length - caps.evidence),
    ruledOutBy: f.ruledOutBy.slice(0, caps.listItems).map((s) => t(s, caps.prose)),
    reasons: f.confidenceReasons.slice(0, caps.listItems).map((r) => ({ delta: mdCode(signed(r.delta)), reason: t(r.reason, caps.prose) })),
  };
}

function pickRows(events: readonly TimelineEvent[], max: number): TimelineEvent[] {
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

function buildView(report: Report, caps: MdCaps) {
  const b = report.bundle;
  const top = findingById(report, report.verdict.findingId);
  const fixes = orderedFixes(report);
  const findings = orderedFindings(report);
  const rows = pickRows(report.timeline.events, caps.timelineRows);
  const sourcesNotFound = b.sources.filter((s) => s.status !== "found");
  return {
    severity: SEVERITY_LABEL[report.verdict.severity].toUpperCase(),
    confidence: pct(report.verdict.confidence),
    sentence: t(report.verdict.sentence, caps.prose),
    rootCause: top ? findingLabel(report, top.id) : null,
    explains: top && top.explains.length > 0 ? top.explains.slice(0, 5).map((id) => findingLabel(report, id)).join(", ") : null,
    host: b.hostname === undefined ? null : mdCode(b.hostname),
    kernel: b.kernel === undefined ? null : mdCode(b.kernel),
    distro: b.distro === undefined ? null : t(b.distro, 200),
    collectedAt: b.collectedAt === undefined ? null : mdText(showTime(b.collectedAt)),
    input: mdCode(cut(b.input, 300)),
    fixes: fixes.slice(0, caps.fixes).map((fx, i) => fixView(report, fx, i, caps)),
    fixesMore: Math.max(0, fixes.length - caps.fixes),
    findings: findings.slice(0, caps.findings).map((f, i) => findingView(report, f, i, caps)),
    findingsMore: Math.max(0, findings.length - caps.findings),
    timeline: {
      total: report.timeline.events.length,
      omitted: report.timeline.omitted,
      shown: rows.length,
      rows: rows.map((ev) => ({
        time: mdCell(ev.time !== undefined ? showTime(ev.time) : ev.uptime !== undefined ? `+${ev.uptime.toFixed(3)} s` : "—"),
        cls: mdCell(cut(ev.class, 60)),
        text: mdCode(cut(ev.text, 160), true),
        count: ev.count > 1 ? ` ×${ev.count}` : "",
        marks: ev.marks.length > 0 ? `**${ev.marks.join(", ")}** ` : "",
        where: mdCode(location(ev.path, ev.line), true),
      })),
    },
    sources: {
      found: b.sources.filter((s) => s.status === "found").length,
      total: b.sources.length,
      notFound: sourcesNotFound.slice(0, caps.sources).map((s) => ({
        id: mdCode(s.id, true),
        status: s.status,
        paths: s.paths.length > 0 ? mdCode(cut(s.paths.slice(0, 2).join(", ") + (s.paths.length > 2 ? ", …" : ""), 200), true) : "",
        reason: s.reason === undefined ? "" : mdCell(cut(s.reason, 300)),
      })),
      notFoundMore: Math.max(0, sourcesNotFound.length - caps.sources),
    },
    warnings: report.warnings.slice(0, caps.warnings).map((w) => ({
      code: mdCode(w.code),
      message: t(w.message, caps.prose),
      where: w.path === undefined ? null : mdCode(location(w.path, w.line)),
    })),
    warningsMore: Math.max(0, report.warnings.length - caps.warnings),
    tool: `${mdText(report.tool.name)} ${mdText(report.tool.version)}`,
    schemaVersion: report.schemaVersion,
    generatedAt: mdText(showTime(report.generatedAt)),
  };
}

function buildBriefView(report: Report) {
  const b = report.bundle;
  const top = findingById(report, report.verdict.findingId);
  const fixes = orderedFixes(report).slice(0, 3);
  const findings = orderedFindings(report);
  return {
    severity: SEVERITY_LABEL[report.verdict.severity].toUpperCase(),
    confidence: pct(report.verdict.confidence),
    sentence: t(report.verdict.sentence, 600),
    rootCause: top ? findingLabel(report, top.id) : null,
    host: b.hostname === undefined ? null : mdCode(cut(b.hostname, 100)),
    kernel: b.kernel === undefined ? null : mdCode(cut(b.kernel, 100)),
    fixes: fixes.map((fx, i) => {
      const flat = fx.commands.flatMap((c) => c.split("\n"));
      const shown = flat.slice(0, 3).map((l) => cut(l, 300));
      if (flat.length > 3) shown.push(`# … ${flat.length - 3} more lines in the full report`);
      return {
        n: fx.rank ?? i + 1,
        title: t(fx.title, 200),
        cure: pct(fx.cureLikelihood),
        risk: t(fx.risk, 160),
        commands: shown.length > 0 ? mdFence(shown, "sh") : null,
      };
    }),
    findings: findings.slice(0, 6).map((f) => {
      const ev = f.evidence[0];
      return {
        severity: SEVERITY_LABEL[f.severity].toUpperCase(),
        confidence: pct(f.confidence),
        title: t(f.title, 160),
        id: mdCode(f.id),
        where: ev ? mdCode(cut(location(ev.path, ev.line, ev.lastLine), 160)) : null,
      };
    }),
    findingsMore: Math.max(0, findings.length - 6),
    tool: `${mdText(report.tool.name)} ${mdText(report.tool.version)}`,
  };
}

/** Renders the report as Markdown for a ticket comment; `brief` gives a summary under 60 lines. */
export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const tpl = loadTemplates();
  if (options.brief) {
    let md = tidy(tpl.markdownBrief(buildBriefView(report)));
    const lines = md.split("\n");
    if (lines.length > BRIEF_MAX_LINES) {
      // Only reachable with multi-line fix titles and the like: cut, keep the last line honest.
      md = lines.slice(0, BRIEF_MAX_LINES - 1).join("\n") + "\n_(cut: see the full report)_\n";
    }
    return md;
  }
  let caps = FULL_CAPS;
  let md = tidy(tpl.markdown(buildView(report, caps)));
  for (let i = 0; i < 6 && md.length > MARKDOWN_MAX_CHARS; i++) {
    caps = tighten(caps);
    md = tidy(tpl.markdown(buildView(report, caps)));
  }
  return md;
}

/** Collapses runs of blank lines the template's conditionals leave behind; ends with one newline. */
function tidy(md: string): string {
  const out: string[] = [];
  let inFence: string | null = null;
  for (const line of visibleControls(md).split("\n")) {
    const fence = /^(`{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (inFence === null) inFence = fence;
      else if (line.trim() === inFence) inFence = null;
    }
    if (inFence === null && line.trim() === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(inFence === null && fence === undefined ? line.replace(/\s+$/, "") : line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}
