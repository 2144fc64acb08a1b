/**
 * Draws the timeline as an inline SVG on the Node side: events per time bin, stacked by class,
 * bursts as brackets above the bars, and vertical marks for the likely trigger, the first symptom
 * and the collection. No JavaScript; every bundle string is escaped with `escapeXml`.
 */
import type { TimelineEvent } from "../report/schema.js";
import { cut, escapeXml } from "./escape.js";

export interface TimelineClass {
  name: string;
  /** CSS class of its colour: `tl-sym`, `tl-trg`, `tl-c0` … `tl-c5`, or `tl-cx` for "other". */
  cls: string;
  /** The colour used in the SVG attributes (light scheme). */
  colour: string;
  /** Events of that class, counting every repeat of a burst. */
  total: number;
}

export interface TimelineSvg {
  /** The SVG markup (trusted: built here, every bundle string escaped), or "" when nothing can be placed. */
  svg: string;
  /** "minute", "5 minutes", … */
  binLabel: string;
  /** "wall clock (UTC+01:00)" or "seconds since boot". */
  axisLabel: string;
  plotted: number;
  /** Events without a usable time, left out of the chart (still in the table). */
  unplaced: number;
  classes: TimelineClass[];
}

const W = 960;
const PAD_L = 70;
const PAD_R = 16;
const PAD_T = 58;
const PLOT_H = 170;
const PAD_B = 34;
const LEGEND_H = 26;
const MAX_BURSTS = 30;

/**
 * Colours for the SVG's own attributes (the page CSS overrides them per colour scheme, through the
 * same class names). The class of the first symptom is drawn red (`tl-sym`), the class of the
 * likely trigger amber (`tl-trg`); the others take calm colours in order (`tl-c0` … `tl-c5`).
 */
const CALM_COLOURS = ["#2563eb", "#059669", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
const SYMPTOM_COLOUR = "#dc2626";
const TRIGGER_COLOUR = "#d97706";
const OTHER_COLOUR = "#94a3b8";

const BIN_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
const MAX_BINS = 180;
const SHORT_BIN_STEPS = [1, 2, 5, 10, 15, 30];
const SHORT_MAX_BINS = 60;

interface Placed {
  ev: TimelineEvent;
  t: number; // seconds (epoch or uptime)
  end: number;
}

/** Parses the UTC offset of an ISO string in minutes ("Z" → 0), or undefined. */
function isoOffsetMinutes(iso: string): number | undefined {
  const m = /(?:([+-])(\d\d):?(\d\d)|Z)$/.exec(iso.trim());
  if (!m) return undefined;
  if (!m[1]) return 0;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -v : v;
}

function fmtOffset(min: number): string {
  if (min === 0) return "UTC";
  const sign = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

function binLabelOf(step: number): string {
  if (step < 60) return step === 1 ? "second" : `${step} seconds`;
  if (step < 3600) return step === 60 ? "minute" : `${step / 60} minutes`;
  if (step < 86400) return step === 3600 ? "hour" : `${step / 3600} hours`;
  return step === 86400 ? "day" : `${step / 86400} days`;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

/** Formats a time value for axis labels: wall clock in the bundle's offset, or uptime. */
function fmtTick(t: number, mode: "wall" | "uptime", offsetMin: number, step: number): string {
  if (mode === "uptime") {
    if (step >= 3600) return `${(t / 3600).toFixed(t % 3600 === 0 ? 0 : 1)} h`;
    return `${Math.round(t)} s`;
  }
  const d = new Date((t + offsetMin * 60) * 1000);
  const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  if (step >= 86400) return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (step >= 3600 * 6) return `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${hm}`;
  return step < 60 ? `${hm}:${pad2(d.getUTCSeconds())}` : hm;
}

function placeEvents(events: readonly TimelineEvent[]): { mode: "wall" | "uptime"; placed: Placed[] } {
  const wall: Placed[] = [];
  for (const ev of events) {
    if (ev.time === undefined) continue;
    const t = Date.parse(ev.time);
    if (!Number.isFinite(t)) continue;
    const last = ev.lastTime !== undefined ? Date.parse(ev.lastTime) : Number.NaN;
    wall.push({ ev, t: t / 1000, end: Number.isFinite(last) && last >= t ? last / 1000 : t / 1000 });
  }
  if (wall.length > 0) return { mode: "wall", placed: wall };
  const up: Placed[] = [];
  for (const ev of events) {
    if (ev.uptime === undefined || !Number.isFinite(ev.uptime)) continue;
    const last = ev.lastUptime;
    up.push({ ev, t: ev.uptime, end: last !== undefined && Number.isFinite(last) && last >= ev.uptime ? last : ev.uptime });
  }
  return { mode: "uptime", placed: up };
}

/** log10(1 + n), the bar height scale: bursts of thousands next to single events stay readable. */
const lg = (n: number): number => Math.log10(1 + n);

export function renderTimelineSvg(events: readonly TimelineEvent[]): TimelineSvg {
  const { mode, placed } = placeEvents(events);
  const unplaced = events.length - placed.length;
  if (placed.length === 0) {
    return { svg: "", binLabel: "", axisLabel: "", plotted: 0, unplaced, classes: [] };
  }

  let t0 = Infinity;
  let t1 = -Infinity;
  for (const p of placed) {
    if (p.t < t0) t0 = p.t;
    if (p.end > t1) t1 = p.end;
  }
  const span = Math.max(1, t1 - t0);
  let step = BIN_STEPS.find((s) => span / s <= MAX_BINS) ?? Math.ceil(span / MAX_BINS / 86400) * 86400;
  // A problem that lasted seconds (a burst of drops) would be one wide bar per minute: use
  // second-level bins, at most SHORT_MAX_BINS of them, when everything fits in ten minutes.
  if (step === 60 && span <= 600) step = SHORT_BIN_STEPS.find((s) => span / s <= SHORT_MAX_BINS) ?? 60;
  const start = Math.floor(t0 / step) * step;
  const nBins = Math.max(1, Math.floor((t1 - start) / step) + 1);

  // Classes by total count; the top MAX_CLASSES get colours, the rest are "other".
  const totals = new Map<string, number>();
  for (const p of placed) totals.set(p.ev.class, (totals.get(p.ev.class) ?? 0) + p.ev.count);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const symptomClass = placed.find((p) => p.ev.marks.includes("first-symptom"))?.ev.class;
  const triggerClass = placed.find((p) => p.ev.marks.includes("likely-trigger"))?.ev.class;
  const classes: TimelineClass[] = [];
  const clsIndex = new Map<string, number>();
  let otherTotal = 0;
  let calm = 0;
  for (const [name, total] of ranked) {
    if (name === symptomClass) {
      clsIndex.set(name, classes.length);
      classes.push({ name, cls: "tl-sym", colour: SYMPTOM_COLOUR, total });
    } else if (name === triggerClass) {
      clsIndex.set(name, classes.length);
      classes.push({ name, cls: "tl-trg", colour: TRIGGER_COLOUR, total });
    } else if (calm < CALM_COLOURS.length) {
      clsIndex.set(name, classes.length);
      classes.push({ name, cls: `tl-c${calm}`, colour: CALM_COLOURS[calm] ?? OTHER_COLOUR, total });
      calm++;
    } else otherTotal += total;
  }
  const nSeries = classes.length + (otherTotal > 0 ? 1 : 0);
  if (otherTotal > 0) classes.push({ name: "other", cls: "tl-cx", colour: OTHER_COLOUR, total: otherTotal });

  // bins[b][series] = events; a burst is spread over the bins its first..last time spans.
  const bins: number[][] = Array.from({ length: nBins }, () => new Array<number>(nSeries).fill(0));
  for (const p of placed) {
    const series = clsIndex.get(p.ev.class) ?? nSeries - 1;
    const b0 = Math.min(nBins - 1, Math.floor((p.t - start) / step));
    const b1 = Math.min(nBins - 1, Math.floor((p.end - start) / step));
    if (b1 <= b0 || p.ev.count <= 1) {
      const row = bins[b0];
      if (row) row[series] = (row[series] ?? 0) + p.ev.count;
      continue;
    }
    const dur = p.end - p.t;
    for (let b = b0; b <= b1; b++) {
      const lo = Math.max(p.t, start + b * step);
      const hi = Math.min(p.end, start + (b + 1) * step);
      const row = bins[b];
      if (row) row[series] = (row[series] ?? 0) + (p.ev.count * Math.max(0, hi - lo)) / dur;
    }
  }
  let maxBin = 0;
  for (const row of bins) maxBin = Math.max(maxBin, row.reduce((a, v) => a + v, 0));
  // Log scale up to a bit above the tallest bar; ticks on the decades below it.
  const yTop = Math.max(lg(10), lg(maxBin) * 1.06);
  const topDecade = Math.max(1, Math.floor(Math.log10(Math.max(10, maxBin))));
  const plotW = W - PAD_L - PAD_R;
  const bw = plotW / nBins;
  const x = (t: number): number => PAD_L + ((t - start) / (nBins * step)) * plotW;
  const y = (v: number): number => PAD_T + PLOT_H - (lg(v) / yTop) * PLOT_H;
  const legend: { cls: string; fill: string; text: string; x: number; y: number }[] = [];
  {
    let lx = PAD_L;
    let ly = PAD_T + PLOT_H + PAD_B + 8;
    classes.forEach((c) => {
      const text = `${cut(c.name, 28)} (${c.total.toLocaleString("en-US")})`;
      const w = 14 + Array.from(text).length * 6.6 + 14;
      if (lx + w > W - PAD_R && lx > PAD_L) {
        lx = PAD_L;
        ly += 16;
      }
      legend.push({ cls: c.cls, fill: c.colour, text, x: lx, y: ly });
      lx += w;
    });
  }
  const legendBottom = Math.max(...legend.map((l) => l.y + 10), PAD_T + PLOT_H + PAD_B);
  const H = Math.max(PAD_T + PLOT_H + PAD_B + LEGEND_H, legendBottom + 8);

  const offsetMin = mode === "wall" ? (isoOffsetMinutes(placed[0]?.ev.time ?? "") ?? 0) : 0;
  const axisLabel = mode === "wall" ? `wall clock (${fmtOffset(offsetMin)})` : "seconds since boot";
  const binLabel = binLabelOf(step);

  const out: string[] = [];
  const aria = `Timeline: ${placed.length} events per ${binLabel}, ${axisLabel}, by class`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(aria)}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(aria)}</title>`);

  // Y grid + ticks (log scale: 0, 1, 10, 100, …).
  out.push(`<g class="tl-grid">`);
  for (let d = 0; d <= topDecade; d++) {
    const v = d === 0 ? 1 : 10 ** d;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${PAD_L}" x2="${W - PAD_R}" y1="${yy}" y2="${yy}" stroke="#cbd5e1" stroke-width="0.5"/>`);
    out.push(`<text class="tl-axis" x="${PAD_L - 6}" y="${yy}" dy="0.32em" text-anchor="end" fill="#64748b">${v.toLocaleString("en-US")}</text>`);
  }
  out.push(`<line x1="${PAD_L}" x2="${W - PAD_R}" y1="${PAD_T + PLOT_H}" y2="${PAD_T + PLOT_H}" stroke="#94a3b8" stroke-width="1"/>`);
  out.push(`</g>`);
  out.push(
    `<text class="tl-axis" x="12" y="${PAD_T + PLOT_H / 2}" transform="rotate(-90 12 ${PAD_T + PLOT_H / 2})" text-anchor="middle" fill="#64748b">events / ${escapeXml(binLabel)} (log)</text>`,
  );

  // Bars.
  out.push(`<g class="tl-bars">`);
  bins.forEach((row, b) => {
    const total = row.reduce((a, v) => a + v, 0);
    if (total <= 0) return;
    let acc = 0;
    const bx = (PAD_L + b * bw + Math.min(1, bw * 0.15)).toFixed(1);
    const bwid = Math.max(0.8, bw - Math.min(2, bw * 0.3)).toFixed(1);
    const parts: string[] = [];
    row.forEach((v, s) => {
      if (v <= 0) return;
      const yTopPx = y(acc + v);
      const yBotPx = y(acc);
      acc += v;
      const cls = classes[s];
      if (!cls) return;
      parts.push(
        `<rect class="${cls.cls}" x="${bx}" y="${yTopPx.toFixed(1)}" width="${bwid}" height="${Math.max(0.5, yBotPx - yTopPx).toFixed(1)}" fill="${cls.colour}"/>`,
      );
    });
    const tip = `${fmtTick(start + b * step, mode, offsetMin, Math.min(step, 3600))}: ${Math.round(total).toLocaleString("en-US")} events`;
    out.push(`<g><title>${escapeXml(tip)}</title>${parts.join("")}</g>`);
  });
  out.push(`</g>`);

  // X ticks: at most ~9 labels, on round multiples (in the bundle's local time) of a nice step.
  const total = nBins * step;
  const tickStep = [...SHORT_BIN_STEPS, ...BIN_STEPS].find((ts) => ts >= step && total / ts <= 9) ?? step * Math.ceil(nBins / 9);
  const offSec = offsetMin * 60;
  out.push(`<g class="tl-xticks">`);
  for (let tt = Math.ceil((start + offSec) / tickStep) * tickStep - offSec; tt <= start + total; tt += tickStep) {
    const tx = x(tt).toFixed(1);
    out.push(`<line x1="${tx}" x2="${tx}" y1="${PAD_T + PLOT_H}" y2="${PAD_T + PLOT_H + 4}" stroke="#94a3b8"/>`);
    out.push(
      `<text class="tl-axis" x="${tx}" y="${PAD_T + PLOT_H + 17}" text-anchor="middle" fill="#64748b">${escapeXml(fmtTick(tt, mode, offsetMin, tickStep))}</text>`,
    );
  }
  out.push(`</g>`);

  // Bursts: brackets above the plot for the largest repeated-message bursts.
  const bursts = placed
    .filter((p) => p.ev.count > 1)
    .sort((a, b) => b.ev.count - a.ev.count)
    .slice(0, MAX_BURSTS)
    .sort((a, b) => a.t - b.t);
  if (bursts.length > 0) {
    out.push(`<g class="tl-bursts">`);
    let lastLabelEnd = -Infinity;
    for (const p of bursts) {
      const x0 = x(p.t);
      const x1 = Math.max(x0 + 3, x(p.end));
      const by = PAD_T - 10;
      const s = clsIndex.get(p.ev.class);
      const c = s !== undefined ? classes[s] : classes[classes.length - 1];
      const colour = c?.colour ?? OTHER_COLOUR;
      const cls = c?.cls ?? "tl-cx";
      const label = `×${p.ev.count.toLocaleString("en-US")}`;
      const tip = `burst ×${p.ev.count}${p.ev.suppressed > 0 ? ` (${p.ev.suppressed} suppressed)` : ""}: ${cut(p.ev.text, 200)}`;
      const showLabel = x0 > lastLabelEnd + 4;
      if (showLabel) lastLabelEnd = x0 + label.length * 6.5;
      out.push(
        `<g><title>${escapeXml(tip)}</title><rect class="${cls}" x="${x0.toFixed(1)}" y="${by}" width="${(x1 - x0).toFixed(1)}" height="4" rx="1" fill="${colour}"/>` +
          (showLabel
            ? `<text class="tl-burst-label" x="${x0.toFixed(1)}" y="${by - 3}" font-size="10" fill="#475569">${escapeXml(label)}</text>`
            : "") +
          `</g>`,
      );
    }
    out.push(`</g>`);
  }

  // Marks: first event carrying each mark.
  const markDefs: { mark: TimelineEvent["marks"][number]; label: string; cls: string; colour: string; row: number }[] = [
    { mark: "likely-trigger", label: "likely trigger", cls: "tl-mark-trigger", colour: "#d97706", row: 0 },
    { mark: "first-symptom", label: "first symptom", cls: "tl-mark-symptom", colour: "#dc2626", row: 1 },
    { mark: "collection", label: "collected", cls: "tl-mark-collection", colour: "#64748b", row: 0 },
  ];
  out.push(`<g class="tl-marks">`);
  for (const def of markDefs) {
    const hit = placed.filter((p) => p.ev.marks.includes(def.mark)).sort((a, b) => a.t - b.t)[0];
    if (!hit) continue;
    const mx = x(hit.t);
    const when = fmtTick(hit.t, mode, offsetMin, 60);
    const whenSec = mode === "wall" ? `${when}:${pad2(new Date((hit.t + offsetMin * 60) * 1000).getUTCSeconds())}` : when;
    const label = `${def.label} ${whenSec}`;
    const anchor = mx > W - 160 ? "end" : "start";
    const lx = anchor === "end" ? mx - 4 : mx + 4;
    const ly = 13 + def.row * 14;
    out.push(
      `<g class="${def.cls}"><title>${escapeXml(`${def.label}: ${cut(hit.ev.text, 200)}`)}</title>` +
        `<line x1="${mx.toFixed(1)}" x2="${mx.toFixed(1)}" y1="${ly - 9}" y2="${PAD_T + PLOT_H}" stroke="${def.colour}" stroke-width="1.5" stroke-dasharray="4 3"/>` +
        `<text x="${lx.toFixed(1)}" y="${ly}" text-anchor="${anchor}" font-weight="600" fill="${def.colour}">${escapeXml(label)}</text></g>`,
    );
  }
  out.push(`</g>`);

  // Legend (laid out above, wrapped onto several rows when needed).
  out.push(`<g class="tl-legend">`);
  for (const it of legend) {
    out.push(
      `<rect class="${it.cls}" x="${it.x.toFixed(1)}" y="${it.y}" width="10" height="10" rx="2" fill="${it.fill}"/>` +
        `<text class="tl-legend-text" x="${(it.x + 14).toFixed(1)}" y="${it.y + 9}" fill="#334155">${escapeXml(it.text)}</text>`,
    );
  }
  out.push(`</g>`);
  out.push(`</svg>`);

  return { svg: out.join(""), binLabel, axisLabel, plotted: placed.length, unplaced, classes };
}
