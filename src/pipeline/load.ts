/** Opens a bundle, maps it onto the registry and parses every source once. */
import { type Bundle, openBundle } from "../bundle/bundle.js";
import { type BundleLimits, DEFAULT_LIMITS } from "../bundle/limits.js";
import type { BundleInput } from "../bundle/read.js";
import type { ReportWarning, SourceStatus } from "../report/schema.js";
import { loadParsers, type ParsedSources, parseSources, streamRouter } from "../sources/parse.js";
import { SOURCE_SPECS } from "../sources/registry.js";
import { type ResolvedBundle, resolveSources } from "../sources/resolve.js";
import { collectionTime } from "./collection-time.js";
import { skippedCommands } from "./skipped.js";

export interface LoadedBundle {
  bundle: Bundle;
  resolved: ResolvedBundle;
  parsed: ParsedSources;
  statuses: SourceStatus[];
  warnings: ReportWarning[];
  collectedAt?: Date;
}

const META_SOURCES = new Set(["collector-manifest", "date", "sos-manifest", "uptime", "proc-stat", "sos-log"]);

export async function loadBundle(input: BundleInput, limits: BundleLimits = DEFAULT_LIMITS): Promise<LoadedBundle> {
  const parsers = await loadParsers();
  const bundle = await openBundle(input, streamRouter(parsers, {}), limits);
  const resolved = resolveSources(bundle);
  // Metadata first: the collection time dates syslog lines that carry no year.
  const meta = parseSources(resolved, parsers, {}, (id) => META_SOURCES.has(id));
  const collectedAt = collectionTime(meta);
  const rest = parseSources(resolved, parsers, collectedAt ? { collectedAt } : {}, (id) => !META_SOURCES.has(id));
  const parsed: ParsedSources = new Map([...meta, ...rest]);

  const warnings: ReportWarning[] = bundle.summary.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.path ? { path: w.path } : {}) }));
  if (bundle.summary.aborted) warnings.unshift({ code: "read-aborted", message: `${bundle.summary.aborted} — the report covers the files read before that` });
  for (const list of parsed.values())
    for (const p of list)
      for (const w of p.warnings.slice(0, 20)) warnings.push({ code: "parse", message: w.message, path: w.path, ...(w.line ? { line: w.line } : {}) });

  const statuses = sourceStatuses(resolved, parsed, skippedCommands(parsed));
  return { bundle, resolved, parsed, statuses, warnings, ...(collectedAt ? { collectedAt } : {}) };
}

function sourceStatuses(resolved: ResolvedBundle, parsed: ParsedSources, skipped: Map<string, string>): SourceStatus[] {
  const out: SourceStatus[] = [];
  for (const spec of SOURCE_SPECS) {
    const files = resolved.sources.get(spec.id) ?? [];
    if (files.length > 0) {
      const truncated = files.find((f) => f.truncated);
      const parsedOk = (parsed.get(spec.id) ?? []).length > 0;
      out.push({
        id: spec.id,
        status: truncated ? "truncated" : parsedOk ? "found" : "error",
        paths: [...new Set(files.map((f) => f.path))],
        bytes: files.reduce((n, f) => n + f.size, 0),
        ...(truncated ? { reason: truncated.truncated } : parsedOk ? {} : { reason: "found but could not be parsed" }),
      });
      continue;
    }
    const skip = skippedReason(spec.id, resolved, skipped);
    if (skip) out.push({ id: spec.id, status: "skipped", paths: [], bytes: 0, reason: skip });
    else if (resolved.layout === "loose" || (spec.expectedIn ?? []).includes(resolved.layout))
      out.push({
        id: spec.id,
        status: "absent",
        paths: [],
        bytes: 0,
        reason: resolved.layout === "loose" ? "no file in the bundle has this content" : `not in the bundle (looked for ${(resolved.lookedFor.get(spec.id) ?? []).slice(0, 3).join(", ") || "nothing in this layout"})`,
      });
  }
  return out;
}

/** A skipped command names the source whose candidate path it would have written. */
function skippedReason(sourceId: string, resolved: ResolvedBundle, skipped: Map<string, string>): string | undefined {
  const candidates = resolved.lookedFor.get(sourceId) ?? [];
  for (const c of candidates) {
    const name = c.split("/").pop() ?? c;
    for (const [cmd, reason] of skipped) {
      const asPath = cmd.trim().replace(/\s+/g, "_").replace(/\//g, ".");
      if (asPath === name || asPath.endsWith(`_${name}`) || name === asPath.replace(/^.*\./, "")) return reason;
    }
  }
  return undefined;
}
