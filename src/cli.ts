#!/usr/bin/env node
/** nfdiag command line: analyze bundles, list their sources, describe the analyzers, export the collector. */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { BundleLimitError } from "./bundle/limits.js";
import type { BundleInput } from "./bundle/read.js";
import { runCollector, writeCollector } from "./collector/run.js";
import { loadAnalyzers } from "./engine/registry.js";
import { analyze } from "./pipeline/analyze.js";
import { loadBundle } from "./pipeline/load.js";
import { renderHtml } from "./render/html.js";
import { renderJson } from "./render/json.js";
import { renderMarkdown } from "./render/markdown.js";
import { progressFor } from "./progress.js";
import { renderTerminalSummary } from "./render/terminal.js";
import { reportJsonSchema } from "./report/json-schema.js";
import { type Report, SEVERITY_ORDER, type Severity, severityWeight } from "./report/schema.js";
import { VERSION } from "./version.js";

const EXIT = { ok: 0, unreadable: 1, usage: 2, failOn: 3 } as const;
const FORMATS = ["html", "md", "json"] as const;
type Format = (typeof FORMATS)[number];

class UsageError extends Error {}

const toInput = (arg: string): BundleInput => (arg === "-" ? { kind: "stdin", name: "stdin" } : { kind: "path", path: arg });

/** `sosreport-x-2026.tar.xz` → `sosreport-x-2026`. */
export function inputName(arg: string): string {
  if (arg === "-") return "stdin";
  return basename(resolve(arg)).replace(/(\.(tar|tgz|txz|tzst|tbz2?|zip|gz|xz|zst|bz2|txt|log))+$/i, "") || "bundle";
}

function parseFormats(list: string): Format[] {
  const formats = list.split(",").map((f) => f.trim()).filter(Boolean);
  for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`unknown format "${f}" (use html, md, json)`);
  return [...new Set(formats)] as Format[];
}

function render(report: Report, format: Format, brief: boolean): string {
  if (format === "html") return renderHtml(report);
  if (format === "md") return renderMarkdown(report, { brief });
  return renderJson(report);
}

const useColor = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";

async function analyzeCommand(inputs: string[], opts: { output?: string; format: string; failOn?: Severity; brief?: boolean; quiet?: boolean }): Promise<number> {
  const formats = parseFormats(opts.format);
  if (opts.output === "-" && (formats.length !== 1 || inputs.length !== 1))
    throw new UsageError("-o - writes one report to standard output: name exactly one format with -f and one input");
  if (inputs.filter((i) => i === "-").length > 1) throw new UsageError("standard input (-) can be read only once");
  let worst = -1;
  let failed = false;
  for (const arg of inputs) {
    let report: Report;
    const progress = progressFor(arg, { quiet: opts.quiet === true || opts.output === "-" });
    try {
      report = await analyze({ ...toInput(arg), ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) });
    } catch (e) {
      progress.stop();
      failed = true;
      process.stderr.write(`nfdiag: cannot read ${arg}: ${(e as Error).message}\n  next step: check the file is a bundle (tar, tar.gz/xz/zst, zip, folder or text file) and readable; run \`nfdiag sources ${arg}\` to see what can be read.\n`);
      continue;
    }
    progress.stop();
    for (const f of report.findings) worst = Math.max(worst, severityWeight(f.severity));
    if (opts.output === "-") {
      process.stdout.write(render(report, formats[0]!, opts.brief === true));
      continue;
    }
    const dir = resolve(opts.output ? (inputs.length > 1 ? join(opts.output, `nfdiag-${inputName(arg)}`) : opts.output) : `nfdiag-${inputName(arg)}`);
    mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    for (const format of formats) {
      const file = join(dir, `report.${format}`);
      writeFileSync(file, render(report, format, opts.brief === true));
      written.push(file);
    }
    if (!opts.quiet) process.stdout.write(`${renderTerminalSummary(report, { outputs: written, color: useColor() })}\n`);
  }
  if (failed && worst < 0) return EXIT.unreadable;
  if (opts.failOn && worst >= severityWeight(opts.failOn)) return EXIT.failOn;
  return failed ? EXIT.unreadable : EXIT.ok;
}

async function sourcesCommand(arg: string, opts: { json?: boolean }): Promise<number> {
  const loaded = await loadBundle(toInput(arg));
  const { resolved, statuses, bundle } = loaded;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ layout: resolved.layout, root: resolved.root, containers: bundle.containers, sources: statuses, warnings: loaded.warnings }, null, 2)}\n`);
    return EXIT.ok;
  }
  const out: string[] = [`layout: ${resolved.layout}${resolved.root ? ` (root ${resolved.root}/)` : ""}   container: ${bundle.containers.join("+")}   files: ${bundle.files.size}`];
  const width = Math.max(...statuses.map((s) => s.id.length));
  for (const s of statuses) {
    const where = s.paths.length > 0 ? s.paths.map((p) => (resolved.root && p.startsWith(`${resolved.root}/`) ? p.slice(resolved.root.length + 1) : p)).join(", ") : "";
    out.push(`${s.id.padEnd(width)}  ${s.status.padEnd(9)} ${String(s.bytes).padStart(9)}  ${where}${s.reason ? `${where ? "  " : ""}(${s.reason})` : ""}`);
  }
  for (const w of loaded.warnings.filter((w) => w.code !== "parse").slice(0, 20)) out.push(`warning: ${w.message}`);
  process.stdout.write(`${out.join("\n")}\n`);
  return EXIT.ok;
}

async function rulesCommand(opts: { json?: boolean }): Promise<number> {
  const analyzers = await loadAnalyzers();
  const rows = analyzers.map((a) => ({ id: a.meta.id, severity: a.meta.defaultSeverity, category: a.meta.category, title: a.meta.title, explains: a.meta.explains ?? [] }));
  if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    const w = Math.max(...rows.map((r) => r.id.length));
    process.stdout.write(`${rows.map((r) => `${r.id.padEnd(w)}  ${r.severity.padEnd(8)}  ${r.title}`).join("\n")}\n`);
  }
  return EXIT.ok;
}

async function explainCommand(id: string): Promise<number> {
  const a = (await loadAnalyzers()).find((x) => x.meta.id === id);
  if (!a) throw new UsageError(`no analyzer "${id}" (see \`nfdiag rules\`)`);
  const m = a.meta;
  const lines = [
    `${m.id} — ${m.title}`,
    `category: ${m.category}   default severity: ${m.defaultSeverity}${m.explains?.length ? `   can explain: ${m.explains.join(", ")}` : ""}`,
    "",
    m.docs.description,
    "",
    "Mechanism:",
    m.docs.mechanism,
    "",
    "Signals:",
    ...m.docs.signals.map((s) => `  - ${s}`),
    ...(m.docs.references.length ? ["", "References:", ...m.docs.references.map((r) => `  - ${r}`)] : []),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command("nfdiag")
    .description("Offline support-bundle analyzer for Linux netfilter problems (iptables, nftables, ipset, nf_conntrack).")
    .exitOverride() // before the subcommands: they copy it when created
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run nfdiag --help for usage)")
    .addHelpText(
      "after",
      `
Examples:
  nfdiag analyze sosreport-host-2026-11-22.tar.xz      writes ./nfdiag-sosreport-host-2026-11-22/report.{html,md,json}
  nfdiag analyze bundle.tar.gz -o - -f md --brief      a short Markdown summary for a ticket comment
  nfdiag analyze dmesg.txt --fail-on high              exit 3 when a finding is high or critical
  pbpaste | nfdiag analyze - -o out/                   analyze a pasted text
  nfdiag sources bundle.tar.gz                         which sources were found, where, and what is missing
  nfdiag collector -o nfdiag-collect.sh                the collector script to run on the affected host

Exit codes: 0 analyzed, 1 input unreadable, 2 usage error, 3 a finding at or above --fail-on.`,
    );

  program
    .command("analyze")
    .description("analyze one or more bundles and write report.html, report.md and report.json")
    .argument("<input...>", "bundle: .tar(.gz|.xz|.zst|.bz2), .zip, folder, text file, or - for standard input")
    .option("-o, --output <dir>", "output folder (default ./nfdiag-<input name>/); - writes one format to standard output")
    .option("-f, --format <list>", "formats to write: html,md,json", "html,md,json")
    .addOption(new Option("--fail-on <severity>", "exit 3 when a finding is at or above this severity").choices([...SEVERITY_ORDER]))
    .option("--brief", "short Markdown (under 60 lines)")
    .option("-q, --quiet", "no terminal summary")
    .action(async (inputs: string[], opts) => setExit(await analyzeCommand(inputs, opts)));

  program
    .command("sources")
    .description("list every logical source found in a bundle: id, status, size, path used, reason when absent or skipped")
    .argument("<input>", "bundle")
    .option("--json", "as JSON")
    .action(async (input: string, opts) => setExit(await sourcesCommand(input, opts)));

  program.command("rules").description("list every analyzer (id, severity, title)").option("--json", "as JSON").action(async (opts) => setExit(await rulesCommand(opts)));
  program.command("explain").description("print an analyzer's documentation").argument("<id>", "analyzer id").action(async (id: string) => setExit(await explainCommand(id)));
  program.command("schema").description("print the JSON Schema of report.json").action(() => {
    process.stdout.write(`${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
    setExit(EXIT.ok);
  });
  program
    .command("collector")
    .description("write the collector script (POSIX sh) to copy to the affected host")
    .option("-o, --output <file>", "where to write it (default: standard output)")
    .action(async (opts: { output?: string }) => {
      const where = await writeCollector(opts.output ?? "-");
      if (where !== "-") process.stderr.write(`wrote ${where}: copy it to the affected host and run \`sh ${basename(where)}\` as root\n`);
      setExit(EXIT.ok);
    });
  program
    .command("collect")
    .description("run the collector on this host (read-only); arguments go to the script, e.g. nfdiag collect -- -o /tmp")
    .allowUnknownOption()
    .argument("[args...]", "collector arguments (see nfdiag collect -- --help)")
    .action(async (args: string[]) => setExit(await runCollector(args)));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (e instanceof UsageError) {
      process.stderr.write(`nfdiag: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof BundleLimitError || (e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EACCES") {
      process.stderr.write(`nfdiag: ${(e as Error).message}\n`);
      return EXIT.unreadable;
    }
    process.stderr.write(`nfdiag: internal error: ${(e as Error).message}\n  please report it with the command you ran (NFDIAG_DEBUG=1 shows the stack)\n`);
    if (process.env.NFDIAG_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return EXIT.unreadable;
  }
}

const invokedDirectly = process.argv[1] && /(^|[\\/])(cli\.(js|ts)|nfdiag)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
