/**
 * The one-screen summary printed after a run: verdict, top 3 fixes (first command each), where
 * the reports were written. Colour only when asked (the CLI passes `color: false` under NO_COLOR
 * or when stdout is not a TTY). Bundle text is stripped of escape sequences and control
 * characters so a hostile bundle cannot drive the terminal.
 */
import type { Report, Severity } from "../report/schema.js";
import { SEVERITY_LABEL, findingById, orderedFixes, pct } from "./common.js";
import { cut, oneLine, sanitizeTerminal } from "./escape.js";

export interface TerminalOptions {
  /** Paths of the reports written, in the order to show. */
  outputs: string[];
  color: boolean;
}

const WIDTH = 78;

const SGR: Record<string, string> = {
  bold: "1",
  dim: "2",
  red: "31",
  yellow: "33",
  blue: "34",
  green: "32",
  magenta: "35",
  cyan: "36",
  inverse: "7",
};

const SEVERITY_STYLE: Record<Severity, string[]> = {
  critical: ["bold", "red", "inverse"],
  high: ["bold", "red"],
  medium: ["bold", "yellow"],
  low: ["blue"],
  info: ["dim"],
};

/** Wraps plain text to `width` columns with an indent on continuation lines. */
function wrap(text: string, width: number, indent: string): string[] {
  const words = text.split(/\s+/).filter((w) => w !== "");
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line === "") line = w;
    else if (Array.from(line).length + 1 + Array.from(w).length <= width - indent.length) line += " " + w;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line !== "") lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : indent + l));
}

/** Renders the terminal summary. */
export function renderTerminalSummary(report: Report, options: TerminalOptions): string {
  const paint = (s: string, ...styles: string[]): string =>
    options.color && styles.length > 0 ? `\x1b[${styles.map((st) => SGR[st] ?? "0").join(";")}m${s}\x1b[0m` : s;
  const clean = (s: string, max: number): string => cut(oneLine(sanitizeTerminal(s)), max);

  const out: string[] = [];
  const b = report.bundle;
  const host = b.hostname !== undefined ? clean(b.hostname, 60) : "unknown host";
  const kernel = b.kernel !== undefined ? `, kernel ${clean(b.kernel, 60)}` : "";
  out.push(`${paint("nfdiag", "bold")} ${clean(report.tool.version, 20)} · ${host}${kernel}`);
  out.push("");

  const sev = report.verdict.severity;
  out.push(
    `${paint(` ${SEVERITY_LABEL[sev].toUpperCase()} `, ...SEVERITY_STYLE[sev])}  confidence ${paint(pct(report.verdict.confidence), "bold")}`,
  );
  for (const l of wrap(clean(report.verdict.sentence, 600), WIDTH, "")) out.push(l);
  const top = findingById(report, report.verdict.findingId);
  if (top) {
    const explains = top.explains.length > 0 ? ` → explains ${top.explains.map((id) => clean(id, 60)).join(", ")}` : "";
    for (const l of wrap(`Root cause: ${clean(top.title, 200)} [${clean(top.id, 60)}]${explains}`, WIDTH, "  ")) out.push(paint(l, "dim"));
  }
  out.push("");

  const fixes = orderedFixes(report).slice(0, 3);
  if (fixes.length > 0) {
    out.push(paint("Fixes, ranked:", "bold"));
    fixes.forEach((fx, i) => {
      const head = `${fx.rank ?? i + 1}. ${clean(fx.title, 140)} (${pct(fx.cureLikelihood)})`;
      wrap(head, WIDTH, "   ").forEach((l) => out.push(l));
      const first = fx.commands[0];
      if (first !== undefined) {
        // Never cut a command (it is meant to be copied); the terminal wraps it if needed.
        const lines = first.split("\n");
        out.push(`   ${paint("$", "green")} ${paint(clean(lines[0] ?? "", 400), "cyan")}`);
        const more = fx.commands.length - 1 + (lines.length - 1);
        if (more > 0) out.push(paint(`     (+${more} more line${more === 1 ? "" : "s"} in the report)`, "dim"));
      }
    });
    const rest = report.fixes.length - fixes.length;
    if (rest > 0) out.push(paint(`   …and ${rest} more`, "dim"));
    out.push("");
  }

  const counts = report.findings.length;
  const warn = report.warnings.length;
  out.push(paint(`${counts} finding${counts === 1 ? "" : "s"}, ${warn} warning${warn === 1 ? "" : "s"}.`, "dim"));
  if (options.outputs.length > 0) {
    out.push(paint("Reports written:", "bold"));
    for (const o of options.outputs) out.push(`  ${sanitizeTerminal(o)}`);
  }
  return out.join("\n") + "\n";
}
