/**
 * Runs every analyzer once over the facts, links causes to the symptoms they explain, ranks
 * findings (a cause outranks what it explains; otherwise severity × confidence) and ranks the
 * fixes of all findings into one list.
 */
import type { Facts } from "../facts/facts.js";
import { type Finding, type Fix, type ReportWarning, type Severity, severityWeight } from "../report/schema.js";
import type { Analyzer } from "./types.js";

export interface EngineResult {
  findings: Finding[];
  fixes: Fix[];
  warnings: ReportWarning[];
}

export function runAnalyzers(facts: Facts, analyzers: Analyzer[]): EngineResult {
  const warnings: ReportWarning[] = [];
  const findings: Finding[] = [];
  const metaById = new Map(analyzers.map((a) => [a.meta.id, a.meta]));
  for (const a of analyzers) {
    let detected;
    try {
      detected = a.detect(facts);
    } catch (e) {
      // One broken analyzer must not cost the rest of the report.
      warnings.push({ code: "analyzer-failed", message: `analyzer ${a.meta.id} failed: ${(e as Error).message}` });
      continue;
    }
    for (const d of detected) {
      const { title, fixes, evidence, ...rest } = d;
      findings.push({
        ...rest,
        evidence: uniqueEvidence(evidence),
        id: a.meta.id,
        title: title ?? a.meta.title,
        category: a.meta.category,
        causedBy: [],
        explains: [],
        fixes: fixes.map((f) => ({ ...f, findingId: a.meta.id })),
      });
    }
  }
  linkCauses(findings, metaById);
  rankFindings(findings);
  return { findings, fixes: rankFixes(findings), warnings };
}

/** The same line cited twice (two signals found it) is shown once, with the first note. */
function uniqueEvidence(evidence: Finding["evidence"]): Finding["evidence"] {
  const seen = new Set<string>();
  return evidence.filter((e) => {
    const key = `${e.path}\u0000${e.line ?? ""}\u0000${e.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function linkCauses(findings: Finding[], metaById: Map<string, Analyzer["meta"]>): void {
  const present = new Map(findings.map((f) => [f.id, f]));
  for (const cause of findings) {
    if (cause.severity === "info") continue; // an info note explains nothing
    for (const symptomId of metaById.get(cause.id)?.explains ?? []) {
      const symptom = present.get(symptomId);
      if (!symptom || symptom === cause) continue;
      if (!cause.explains.includes(symptomId)) cause.explains.push(symptomId);
      if (!symptom.causedBy.includes(cause.id)) symptom.causedBy.push(cause.id);
    }
  }
}

export const findingScore = (f: Pick<Finding, "severity" | "confidence">): number => severityWeight(f.severity) * f.confidence;

/**
 * A cause ranks just above the highest-scoring symptom it explains, unless its own score is
 * higher; among several causes of one symptom, the stronger cause (its own score) goes first.
 */
function rankFindings(findings: Finding[]): void {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const effective = new Map<Finding, number>();
  const score = (f: Finding, seen: Set<Finding>): number => {
    const cached = effective.get(f);
    if (cached !== undefined) return cached;
    let s = findingScore(f);
    seen.add(f);
    for (const id of f.explains) {
      const symptom = byId.get(id);
      if (symptom && !seen.has(symptom)) s = Math.max(s, score(symptom, seen) + 0.001 * (1 + findingScore(f)));
    }
    effective.set(f, s);
    return s;
  };
  for (const f of findings) score(f, new Set());
  findings.sort((a, b) => (effective.get(b) ?? 0) - (effective.get(a) ?? 0) || a.id.localeCompare(b.id));
  findings.forEach((f, i) => {
    f.rank = i + 1;
  });
}

/** Fixes ordered by how likely each is to cure the top problem: its finding's rank, then its cure likelihood. */
function rankFixes(findings: Finding[]): Fix[] {
  const seen = new Set<string>();
  const all: { fix: Fix; weight: number }[] = [];
  for (const f of findings) {
    if (f.severity === "info") continue;
    const findingWeight = findingScore(f) / (f.rank ?? 1);
    for (const fix of f.fixes) {
      const key = `${fix.title}\u0000${fix.commands.join("\n")}`;
      if (seen.has(key)) continue;
      seen.add(key);
      all.push({ fix, weight: findingWeight * fix.cureLikelihood });
    }
  }
  all.sort((a, b) => b.weight - a.weight);
  return all.map(({ fix }, i) => {
    fix.rank = i + 1;
    return fix;
  });
}

export function verdictOf(findings: Finding[]): { findingId: string | null; severity: Severity; confidence: number; sentence: string } {
  const top = findings.find((f) => f.severity !== "info");
  if (!top)
    return {
      findingId: null,
      severity: "info",
      confidence: findings.length > 0 ? Math.max(...findings.map((f) => f.confidence)) : 0.5,
      sentence: "No netfilter problem found above the info level in what this bundle holds (see the inventory for what it lacked).",
    };
  const chain = top.explains.length > 0 ? ` This also explains: ${top.explains.join(", ")}.` : "";
  return { findingId: top.id, severity: top.severity, confidence: top.confidence, sentence: `${firstSentence(top.summary)}${chain}` };
}

/** The verdict is one sentence: the summary's first, when it has several. */
function firstSentence(text: string): string {
  const m = /^(.{20,400}?[.!?])\s+[A-Z(]/.exec(text);
  return m?.[1] ?? text;
}
