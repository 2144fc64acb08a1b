/** Reports of real sample bundles in all three formats: verdict, fix commands, evidence path and line. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/pipeline/analyze.js";
import { renderHtml } from "../../src/render/html.js";
import { renderJson } from "../../src/render/json.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { type Report, reportSchema } from "../../src/report/schema.js";

const SOS = "samples/sosreport-debian12-conntrack-full/bundle.tar.gz";
let report: Report;
beforeAll(async () => {
  report = await analyze({ kind: "path", path: SOS });
});

describe("the real sosreport (table full) in three formats", () => {
  it("JSON: verdict, ranked fixes and evidence, valid against the schema", () => {
    const json = reportSchema.parse(JSON.parse(renderJson(report)));
    expect(json.verdict.findingId).toBe("conntrack-table-full");
    expect(json.fixes[0]!.commands[0]).toBe("sysctl -w net.netfilter.nf_conntrack_max=65536");
    const ev = json.findings[0]!.evidence.find((e) => e.line === 374);
    expect(ev?.path).toBe("sosreport-labvm-2026-11-22-hmafrzq/sos_commands/kernel/dmesg");
  });

  it("HTML: the verdict first, then the copy-ready fix command, then the evidence location", () => {
    const html = renderHtml(report);
    const verdict = html.indexOf("New connections were dropped: the conntrack table was full.");
    const fix = html.indexOf("sysctl -w net.netfilter.nf_conntrack_max&#x3D;65536");
    const evidence = html.indexOf("sos_commands/kernel/dmesg:374");
    expect(verdict).toBeGreaterThan(0);
    expect(fix).toBeGreaterThan(verdict);
    expect(evidence).toBeGreaterThan(fix);
  });

  it("Markdown: the same, and the brief version under 60 lines", () => {
    const md = renderMarkdown(report);
    expect(md).toContain("New connections were dropped: the conntrack table was full.");
    expect(md).toContain("sysctl -w net.netfilter.nf_conntrack_max=65536");
    expect(md).toMatch(/sos_commands\/kernel\/dmesg:374/);
    const brief = renderMarkdown(report, { brief: true });
    expect(brief.split("\n").length).toBeLessThan(60); // assertion on the line count
    expect(brief).toContain("sysctl -w net.netfilter.nf_conntrack_max=65536");
  });
});

describe("report size", () => {
  it("the HTML report of the largest sample stays under 2 MB", async () => {
    const bundles = readdirSync("samples", { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== "lab")
      .map((d) => join("samples", d.name, "bundle.tar.gz"))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    const largest = bundles[0]!;
    const html = renderHtml(await analyze({ kind: "path", path: largest }));
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    // The biggest rule set too (20,000 rules: evidence and timelines are capped and say so).
    const big = renderHtml(await analyze({ kind: "path", path: "samples/big-ruleset/bundle.tar.gz" }));
    expect(Buffer.byteLength(big)).toBeLessThan(2 * 1024 * 1024);
  });
});
