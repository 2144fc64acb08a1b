/** Small helpers shared by the HTML, Markdown and terminal renderers. */
import type { Finding, Fix, Report, Severity } from "../report/schema.js";

export const pct = (x: number): string => `${Math.round(x * 100)}%`;

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: "Critical",
  high: "High",
  medium: "Medium",
  low: "Low",
  info: "Info",
};

/** Findings in report order: by rank when set, else as given. */
export function orderedFindings(report: Report): Finding[] {
  return report.findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.rank ?? Number.MAX_SAFE_INTEGER) - (b.f.rank ?? Number.MAX_SAFE_INTEGER) || a.i - b.i)
    .map((x) => x.f);
}

/** Fixes in report order: by rank when set, else as given. */
export function orderedFixes(report: Report): Fix[] {
  return report.fixes
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.rank ?? Number.MAX_SAFE_INTEGER) - (b.f.rank ?? Number.MAX_SAFE_INTEGER) || a.i - b.i)
    .map((x) => x.f);
}

export function findingById(report: Report, id: string | null | undefined): Finding | undefined {
  if (id === null || id === undefined) return undefined;
  return report.findings.find((f) => f.id === id);
}

/** `path:12` or `path:12–15` or `path`. */
export function location(path: string, line?: number, lastLine?: number): string {
  if (line === undefined) return path;
  if (lastLine !== undefined && lastLine > line) return `${path}:${line}–${lastLine}`;
  return `${path}:${line}`;
}

/** "+0.40" / "−0.15". */
export function signed(delta: number): string {
  const v = Math.abs(delta).toFixed(2);
  return delta < 0 ? `−${v}` : `+${v}`;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** An ISO time shown to a reader: "2025-11-20 14:38:35 +01:00" (as written in the bundle's offset). */
export function showTime(iso: string | undefined): string {
  if (iso === undefined) return "";
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(iso.trim());
  if (!m) return iso;
  const zone = m[4] === undefined ? "" : m[4] === "Z" ? " UTC" : ` ${m[4]}`;
  return `${m[1]} ${m[2]}${zone}`;
}

export function uptimeLabel(u: number | undefined): string {
  return u === undefined ? "" : `[${u.toFixed(3).padStart(12)}]`.replace(/\s+/g, " ").replace("[ ", "[");
}
