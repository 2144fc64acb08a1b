/** The whole job for one bundle: read, parse, analyze, build the timeline, assemble the report. */
import { basename } from "node:path";
import type { BundleLimits } from "../bundle/limits.js";
import type { BundleInput } from "../bundle/read.js";
import { loadAnalyzers } from "../engine/registry.js";
import { runAnalyzers, verdictOf } from "../engine/run.js";
import { type Report, SCHEMA_VERSION } from "../report/schema.js";
import { buildTimeline } from "../timeline/build.js";
import { VERSION } from "../version.js";
import { COLLECT_ABOVE_BYTES, collectGarbage } from "./collect-garbage.js";
import { factsFromLoaded } from "./facts-from-bundle.js";
import { loadBundle } from "./load.js";

export interface AnalyzeOptions {
  limits?: BundleLimits;
  /** Fixed clock for reproducible reports (tests). */
  now?: Date;
}

export async function analyze(input: BundleInput, options: AnalyzeOptions = {}): Promise<Report> {
  const loaded = await loadBundle(input, options.limits);
  const big = loaded.bundle.summary.bytes >= COLLECT_ABOVE_BYTES;
  if (big) collectGarbage();
  const facts = await factsFromLoaded(loaded);
  const engine = runAnalyzers(facts, await loadAnalyzers());
  if (big) collectGarbage();
  const timeline = buildTimeline(facts, engine.findings);
  const kernel = facts.kernel?.value.raw;
  const hostname = facts.hostname;
  const distro = facts.distro;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: "nfdiag", version: VERSION },
    generatedAt: (options.now ?? new Date()).toISOString(),
    bundle: {
      input: input.kind === "path" ? basename(input.path) : "-",
      container: loaded.bundle.containers.join("+") || "unknown",
      layout: loaded.resolved.layout,
      ...(hostname ? { hostname } : {}),
      ...(kernel ? { kernel } : {}),
      ...(distro ? { distro } : {}),
      ...(loaded.collectedAt ? { collectedAt: loaded.collectedAt.toISOString() } : {}),
      ...(facts.bootTime ? { bootTime: facts.bootTime.date.toISOString() } : {}),
      sources: loaded.statuses,
    },
    verdict: verdictOf(engine.findings),
    findings: engine.findings,
    fixes: engine.fixes,
    timeline,
    warnings: [...loaded.warnings, ...engine.warnings],
  };
}
