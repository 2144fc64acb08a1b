/**
 * The analyzer contract, modelled on ESLint rules: `meta` describes the root cause, `detect`
 * turns facts into findings. An analyzer never reads files, never formats output and never
 * knows about other analyzers: causal links between findings are declared in `meta.explains`
 * and applied by the engine.
 */
import type { Facts } from "../facts/facts.js";
import type { Evidence, Finding, Fix, Severity } from "../report/schema.js";

export interface AnalyzerMeta {
  /** Stable id from shared/domain/root-causes.md; never renamed. */
  id: string;
  title: string;
  category: "conntrack" | "rules" | "modules" | "ipset" | "logging" | "neighbour" | "sysctl" | "bundle";
  defaultSeverity: Severity;
  docs: {
    /** What it detects, one paragraph. */
    description: string;
    /** Why this happens (the kernel mechanism), one paragraph. */
    mechanism: string;
    /** What each signal is and where it comes from. */
    signals: string[];
    references: string[];
  };
  /**
   * Symptoms this root cause can produce: ids of other analyzers. When both fire, the engine
   * links them (this finding `explains` the other, the other is `causedBy` this one) and ranks
   * the cause above the symptom.
   */
  explains?: string[];
}

/** What `detect` returns: a finding without the fields the engine fills in. */
export type DetectedFinding = Omit<Finding, "id" | "title" | "category" | "rank" | "causedBy" | "explains" | "fixes"> & {
  fixes: Omit<Fix, "rank" | "findingId">[];
  /** Override the default title when it helps (e.g. name the set or module). */
  title?: string;
};

export interface Analyzer {
  meta: AnalyzerMeta;
  detect(facts: Facts): DetectedFinding[];
}

export type { Evidence, Facts, Finding, Fix, Severity };
