import { describe, expect, it } from "vitest";
import { runAnalyzers, verdictOf } from "../../src/engine/run.js";
import type { Analyzer, DetectedFinding } from "../../src/engine/types.js";
import type { Facts } from "../../src/facts/facts.js";
import type { Severity } from "../../src/report/schema.js";

/** Stand-in analyzers: the engine's linking and ranking do not depend on what they detect. */
function fake(id: string, severity: Severity, confidence: number, explains: string[] = [], fixes: { title: string; cure: number }[] = []): Analyzer {
  const finding: DetectedFinding = {
    severity,
    confidence,
    confidenceReasons: [{ delta: confidence, reason: "test" }],
    summary: `${id}: new connections were dropped. Second sentence.`,
    mechanism: "m",
    evidence: [{ source: "dmesg", path: "commands/dmesg", line: 1, text: "x" }],
    ruledOutBy: [],
    fixes: fixes.map((f) => ({ title: f.title, commands: [f.title], persist: [], verify: [], rollback: [], risk: "low", cureLikelihood: f.cure })),
    metrics: {},
  };
  return {
    meta: { id, title: `${id} title`, category: "conntrack", defaultSeverity: severity, docs: { description: "", mechanism: "", signals: [], references: [] }, explains },
    detect: () => [finding],
  };
}
const facts = {} as Facts;

describe("engine", () => {
  it("links a cause to its symptom and ranks the cause first", () => {
    const { findings } = runAnalyzers(facts, [fake("table-full", "critical", 0.95), fake("loaded-unused", "low", 0.8, ["table-full"])]);
    expect(findings.map((f) => [f.id, f.rank])).toEqual([["loaded-unused", 1], ["table-full", 2]]);
    expect(findings[0]!.explains).toEqual(["table-full"]);
    expect(findings[1]!.causedBy).toEqual(["loaded-unused"]);
  });

  it("among two causes of one symptom, the stronger ranks first", () => {
    const { findings } = runAnalyzers(facts, [
      fake("restore-failed", "high", 0.99),
      fake("backend-mismatch", "low", 0.5, ["restore-failed"]),
      fake("missing-module", "high", 0.99, ["restore-failed"]),
    ]);
    expect(findings.map((f) => f.id)).toEqual(["missing-module", "backend-mismatch", "restore-failed"]);
  });

  it("ranks unrelated findings by severity × confidence and fixes across findings", () => {
    const { findings, fixes } = runAnalyzers(facts, [
      fake("a", "medium", 0.9, [], [{ title: "fix a", cure: 0.9 }]),
      fake("b", "high", 0.9, [], [{ title: "fix b1", cure: 0.3 }, { title: "fix b2", cure: 0.8 }]),
    ]);
    expect(findings.map((f) => f.id)).toEqual(["b", "a"]);
    expect(fixes.map((f) => [f.rank, f.title, f.findingId])).toEqual([
      [1, "fix b2", "b"],
      [2, "fix a", "a"],
      [3, "fix b1", "b"],
    ]);
  });

  it("an info note explains nothing and a failing analyzer becomes a warning", () => {
    const broken: Analyzer = { ...fake("broken", "high", 0.9), detect: () => { throw new Error("boom"); } };
    const { findings, warnings } = runAnalyzers(facts, [fake("sym", "high", 0.9), fake("note", "info", 0.9, ["sym"]), broken]);
    expect(findings.find((f) => f.id === "sym")!.causedBy).toEqual([]);
    expect(warnings).toEqual([{ code: "analyzer-failed", message: "analyzer broken failed: boom" }]);
  });

  it("the verdict is the top non-info finding's first sentence, or none", () => {
    const { findings } = runAnalyzers(facts, [fake("sym", "high", 0.9)]);
    expect(verdictOf(findings)).toMatchObject({ findingId: "sym", severity: "high", sentence: "sym: new connections were dropped." });
    expect(verdictOf(runAnalyzers(facts, [fake("n", "info", 0.9)]).findings).findingId).toBeNull();
  });
});

describe("engine evidence", () => {
  it("cites a line once even when two signals found it", () => {
    const a = fake("dup", "high", 0.9);
    const detect = a.detect;
    a.detect = (f) => detect(f).map((d) => ({ ...d, evidence: [...d.evidence, { ...d.evidence[0]!, note: "again" }, { source: "dmesg", path: "commands/dmesg", line: 2, text: "y" }] }));
    const { findings } = runAnalyzers(facts, [a]);
    expect(findings[0]!.evidence.map((e) => e.line)).toEqual([1, 2]);
  });
});
