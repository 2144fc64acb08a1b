/** Report objects for the renderer tests: the realistic fixture, a hostile variant, a huge one. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { reportSchema, type Report } from "../../src/report/schema.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURE = join(ROOT, "test", "fixtures", "render", "report-conntrack-full.json");

/** The hand-built realistic report (validated with the zod schema). */
export function realistic(): Report {
  return reportSchema.parse(JSON.parse(readFileSync(FIXTURE, "utf8")));
}

/** Payloads a hostile bundle could carry; the browser test watches `window.__xss`. */
export const PAYLOADS = {
  script: "<script>window.__xss=1;alert(1)</script>",
  img: '"><img src=x onerror="window.__xss=2;alert(1)">',
  style: "</style><script>window.__xss=3</script>",
  svg: "<svg onload=window.__xss=4><title>x</title></svg>",
  hbs: "{{7*7}}",
  md: "| a | b |\n| --- | --- |\n[link](javascript:alert(1)) **bold** _em_ # h",
  ticks: "```\n`inline` ``double``",
  ansi: "\x1b[31mred\x1b[0m\x07bell\x1b]0;title\x07",
} as const;

export const ALL_PAYLOADS = Object.values(PAYLOADS).join(" ");

/** The realistic report with payloads in every string that comes from a bundle. */
export function hostile(): Report {
  const r = realistic();
  const P = PAYLOADS;
  r.bundle.hostname = `evil${P.script}${P.img}`;
  r.bundle.kernel = `5.14${P.style}`;
  r.bundle.distro = P.hbs + P.md;
  r.bundle.input = `bundle${P.ticks}.tar.gz`;
  r.verdict.sentence = `Table full on ${P.script} ${P.hbs} ${P.md}`;
  const f0 = r.findings[0]!;
  f0.title = `Loaded ${P.img}`;
  f0.summary = P.style + P.ticks;
  f0.metrics[`${P.script}key`] = `${P.img}value`;
  f0.ruledOutBy.push(P.md + P.svg);
  f0.confidenceReasons.push({ delta: 0.01, reason: P.script });
  f0.evidence.unshift({
    source: "iptables-save",
    path: `commands/iptables-save${P.img}`,
    line: 7,
    text: `-A INPUT -m comment --comment "${P.script}" -m comment --comment "${P.img}" -m comment --comment '${P.style}' -j ACCEPT ${P.hbs} ${P.md} ${P.ticks} ${P.svg} ${P.ansi}`,
    highlight: P.script,
    note: `comment ${P.img} ${P.ticks}`,
  });
  for (const f of r.findings) {
    for (const e of f.evidence) e.text = `${e.text} ${P.style}`;
  }
  const fx = r.fixes[0]!;
  fx.title = `Fix ${P.script}`;
  fx.commands = [`iptables -D INPUT -m comment --comment "${P.script}"`, `echo '${P.ticks}' ${P.md}`, ...fx.commands];
  fx.risk = P.img + P.hbs;
  for (const [i, ev] of r.timeline.events.entries()) {
    if (i % 10 === 0) {
      ev.text = `${ev.text} ${P.script} ${P.img} ${P.svg} ${P.md} ${P.ticks} ${P.ansi}`;
      ev.path = `${ev.path}${P.img}`;
    }
  }
  r.timeline.events[5]!.class = P.svg;
  r.timeline.events[5]!.marks = ["likely-trigger"];
  r.timeline.caveats.push(P.style);
  r.bundle.sources.push({ id: P.img, status: "skipped", paths: [P.script], bytes: 0, reason: `${P.md} ${P.style}` });
  r.warnings.push({ code: P.svg, message: `${P.script} ${P.hbs} ${P.md}`, path: P.img, line: 3 });
  return reportSchema.parse(r);
}

/** A huge report: many findings with many long evidence lines and 100,000 timeline events. */
export function huge(): Report {
  const r = realistic();
  const long = (i: number): string => `${"<&\"'`=".repeat(300)} line ${i} ${"x".repeat(4000)}`;
  const base = r.findings[1]!;
  r.findings = Array.from({ length: 80 }, (_, k) => ({
    ...base,
    id: `finding-${k}`,
    title: `Finding ${k} ${"t".repeat(3000)}`,
    summary: long(k),
    mechanism: long(k),
    evidence: Array.from({ length: 400 }, (_, i) => ({
      source: "dmesg",
      path: `commands/dmesg-${i}`,
      line: i + 1,
      text: long(i),
      highlight: `line ${i}`,
      note: long(i),
    })),
    ruledOutBy: Array.from({ length: 50 }, (_, i) => long(i)),
    metrics: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`m${i}`, i])),
  }));
  r.fixes = Array.from({ length: 120 }, (_, k) => ({
    ...r.fixes[0]!,
    rank: k + 1,
    title: `Fix ${k}`,
    commands: Array.from({ length: 60 }, (_, i) => `echo ${long(i)}`),
    persist: Array.from({ length: 60 }, (_, i) => `echo ${long(i)}`),
  }));
  const ev0 = r.timeline.events[0]!;
  const t0 = Date.parse("2025-11-01T00:00:00Z");
  r.timeline.events = Array.from({ length: 100_000 }, (_, i) => ({
    ...ev0,
    time: new Date(t0 + i * 7_000).toISOString(),
    class: `class-${i % 13}`,
    text: long(i),
    marks: i === 5000 ? ["first-symptom" as const] : [],
  }));
  r.bundle.sources = Array.from({ length: 5000 }, (_, i) => ({
    id: `src-${i}`,
    status: i % 3 === 0 ? ("skipped" as const) : ("found" as const),
    paths: Array.from({ length: 20 }, (_, j) => `files/x/${i}/${j}`),
    bytes: i,
    reason: i % 3 === 0 ? long(i) : undefined,
  }));
  r.warnings = Array.from({ length: 3000 }, (_, i) => ({ code: "w", message: long(i) }));
  return r;
}
