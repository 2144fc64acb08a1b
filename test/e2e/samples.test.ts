/**
 * Every real sample bundle under samples/ is analyzed and checked against its expected.json:
 * the id that must rank first (or "none"), ids that must appear, ids that must not.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { analyze } from "../../src/pipeline/analyze.js";
import { reportSchema } from "../../src/report/schema.js";

const expectedSchema = z.object({ top: z.string(), include: z.array(z.string()), exclude: z.array(z.string()) });
const SAMPLES = "samples";

const samples = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SAMPLES, d.name, "expected.json")))
  .map((d) => d.name)
  .sort();

describe("real sample bundles match their expected findings", () => {
  it("has samples to check", () => {
    expect(samples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(samples)("%s", async (name) => {
    const expected = expectedSchema.parse(JSON.parse(readFileSync(join(SAMPLES, name, "expected.json"), "utf8")));
    const bundle = readdirSync(join(SAMPLES, name)).find((f) => f.startsWith("bundle"));
    expect(bundle, `samples/${name} has a bundle file`).toBeDefined();
    const report = await analyze({ kind: "path", path: join(SAMPLES, name, bundle!) });
    expect(() => reportSchema.parse(report)).not.toThrow();
    const ids = report.findings.map((f) => f.id);
    const above = report.findings.filter((f) => f.severity !== "info");
    const summary = report.findings.map((f) => `${f.rank}. ${f.id} ${f.severity} ${f.confidence}`).join("\n");
    if (expected.top === "none") expect(above, `nothing above info expected, got:\n${summary}`).toEqual([]);
    else expect(report.verdict.findingId, `top finding; ranking was:\n${summary}`).toBe(expected.top);
    for (const id of expected.include) expect(ids, `must include ${id}; got:\n${summary}`).toContain(id);
    for (const id of expected.exclude) expect(ids, `must not include ${id}; got:\n${summary}`).not.toContain(id);
    // Every finding cites evidence that points into the bundle.
    for (const f of report.findings) {
      expect(f.evidence.length, `${f.id} has evidence`).toBeGreaterThan(0);
      for (const e of f.evidence) expect(e.path).not.toBe("");
    }
  });
});
