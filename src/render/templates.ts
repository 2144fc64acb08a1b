/**
 * Loads and compiles the report templates once, from `report-templates/` at the package root.
 *
 * The root is found by walking up from this module's folder to the first folder holding both a
 * package.json and a report-templates/ folder: that is the repo root from `src/render/` (vitest,
 * tsx) and the package root from `dist/src/render/` (after `tsc`, or installed from npm).
 *
 * Escaping: HTML templates use Handlebars' `{{ }}` for everything; `{{{ }}}` appears only for
 * markup built in code (the timeline SVG, the highlighted excerpt parts are NOT that: they are
 * split in code and each part goes through `{{ }}`). Markdown templates are compiled with
 * `noEscape` and receive only strings already escaped for Markdown by `markdown.ts`.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";

export type Template = (context: unknown) => string;

export interface Templates {
  html: Template;
  markdown: Template;
  markdownBrief: Template;
}

let cachedRoot: string | undefined;
let cached: Templates | undefined;

/** The package root (folder with package.json and report-templates/), walking up from `from`. */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  if (cachedRoot !== undefined && from === dirname(fileURLToPath(import.meta.url))) return cachedRoot;
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "report-templates"))) {
      if (from === dirname(fileURLToPath(import.meta.url))) cachedRoot = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) {
      throw new Error(`nfdiag: cannot find the package root (package.json + report-templates/) above ${from}`);
    }
    dir = up;
  }
}

export function templatesDir(): string {
  return join(findPackageRoot(), "report-templates");
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  hb.registerHelper("gt", (a: unknown, b: unknown) => typeof a === "number" && typeof b === "number" && a > b);
  /** "1 event" / "3 events". */
  hb.registerHelper("plural", (n: unknown, one: unknown, many: unknown) =>
    `${typeof n === "number" ? n.toLocaleString("en-US") : String(n)} ${n === 1 ? String(one) : String(many)}`,
  );
  /** Thousands separators. */
  hb.registerHelper("num", (n: unknown) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n ?? "")));
}

/** Compiles all templates (once per process) and returns them. */
export function loadTemplates(): Templates {
  if (cached) return cached;
  const dir = templatesDir();
  // Two environments: partials compile lazily with the options of the first template that uses
  // them and are cached per environment, so HTML (escaping) and Markdown (noEscape) never share one.
  const hb = Handlebars.create();
  registerHelpers(hb);
  const hbMd = Handlebars.create();
  registerHelpers(hbMd);
  const partialsDir = join(dir, "partials");
  if (existsSync(partialsDir)) {
    for (const f of readdirSync(partialsDir).sort()) {
      if (!f.endsWith(".hbs")) continue;
      hb.registerPartial(f.slice(0, -4), readFileSync(join(partialsDir, f), "utf8"));
    }
  }
  const read = (name: string): string => readFileSync(join(dir, name), "utf8");
  const compileHtml = (name: string): Template => {
    const t = hb.compile(read(name), { strict: true });
    return (ctx) => t(ctx);
  };
  const compileMd = (name: string): Template => {
    const t = hbMd.compile(read(name), { strict: true, noEscape: true });
    return (ctx) => t(ctx);
  };
  cached = {
    html: compileHtml("report.html.hbs"),
    markdown: compileMd("report.md.hbs"),
    markdownBrief: compileMd("report.brief.md.hbs"),
  };
  return cached;
}
