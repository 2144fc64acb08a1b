import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderJson } from "../../src/render/json.js";
import { reportJsonSchema } from "../../src/report/json-schema.js";
import { reportSchema, type Report } from "../../src/report/schema.js";
import { ROOT, hostile, realistic } from "./helpers.js";
import { validate } from "./json-schema-check.js";

const DOC = join(ROOT, "docs", "report.schema.json");

describe("renderJson", () => {
  it("validates, pretty-prints and keeps the schema's key order", () => {
    const r = realistic();
    // shuffle the key order of the input: the output must not depend on it
    const shuffled = Object.fromEntries(Object.entries(r).reverse()) as Report;
    shuffled.verdict = Object.fromEntries(Object.entries(r.verdict).reverse()) as Report["verdict"];
    const out = renderJson(shuffled);
    expect(out).toBe(renderJson(r));
    expect(out.endsWith("}\n")).toBe(true);
    expect(out.split("\n")[1]).toBe('  "schemaVersion": 1,');
    expect(Object.keys(JSON.parse(out))).toEqual(Object.keys(reportSchema.shape));
    expect(Object.keys(JSON.parse(out).verdict)).toEqual(["findingId", "severity", "confidence", "sentence"]);
    expect(reportSchema.parse(JSON.parse(out))).toEqual(r);
  });

  it("rejects a report that does not match the schema", () => {
    const bad = realistic() as unknown as { verdict: { confidence: number } };
    bad.verdict.confidence = 3;
    expect(() => renderJson(bad as unknown as Report)).toThrow(/confidence/);
  });

  it("output validates against the JSON Schema (realistic and hostile)", () => {
    const schema = reportJsonSchema();
    for (const r of [realistic(), hostile()]) expect(validate(schema, JSON.parse(renderJson(r)))).toEqual([]);
    // and the checker does catch violations
    const broken = JSON.parse(renderJson(realistic()));
    broken.findings[0].evidence[0].line = 0;
    broken.extra = 1;
    expect(validate(schema, broken).length).toBe(2);
  });

  it("the hostile payloads survive JSON as data", () => {
    const out = renderJson(hostile());
    expect(JSON.parse(out).bundle.hostname).toContain("<script>");
  });
});

describe("reportJsonSchema", () => {
  it("docs/report.schema.json equals what the code generates", () => {
    const generated = JSON.stringify(reportJsonSchema(), null, 2) + "\n";
    // NFDIAG_UPDATE_SCHEMA=1 npx vitest run test/render/json.test.ts regenerates the file.
    if (process.env.NFDIAG_UPDATE_SCHEMA === "1" || !existsSync(DOC)) writeFileSync(DOC, generated);
    expect(readFileSync(DOC, "utf8")).toBe(generated);
  });
});
