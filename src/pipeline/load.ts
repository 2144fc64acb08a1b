/** Opens a bundle, maps it onto the registry and parses every source once. */
import { type Bundle, openBundle } from "../bundle/bundle.js";
import { type BundleLimits, DEFAULT_LIMITS } from "../bundle/limits.js";
import type { BundleInput } from "../bundle/read.js";
import type { CollectorManifest } from "../parsers/collector-manifest.js";
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
  // A big conntrack dump may still be parsing on another thread: the other sources are parsed meanwhile.
  const bundle = await openBundle(input, streamRouter(parsers, { yearLater: true }), limits, { settleLater: true });
  const resolved = resolveSources(bundle);
  // The sources hold the texts they parse; the others (files no source reads) can go.
  for (const file of bundle.files.values()) delete file.text;
  let waiting = sourcesReading(resolved, bundle.unsettled);
  if ([...waiting].some((id) => META_SOURCES.has(id))) {
    await bundle.settled;
    waiting = new Set();
  }
  // Metadata first: the collection time dates syslog lines that carry no year.
  const meta = parseSources(resolved, parsers, {}, (id) => META_SOURCES.has(id));
  const collectedAt = collectionTime(meta);
  const ctx = collectedAt ? { collectedAt } : {};
  const rest = parseSources(resolved, parsers, ctx, (id) => !META_SOURCES.has(id) && !waiting.has(id));
  await bundle.settled;
  const late = parseSources(resolved, parsers, ctx, (id) => waiting.has(id));
  const parsed = inSourceOrder(resolved, meta, new Map([...rest, ...late]));

  const warnings: ReportWarning[] = bundle.summary.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.path ? { path: w.path } : {}) }));
  if (bundle.summary.aborted) warnings.unshift({ code: "read-aborted", message: `${bundle.summary.aborted} — the report covers the files read before that` });
  for (const list of parsed.values())
    for (const p of list)
      for (const w of p.warnings.slice(0, 20)) warnings.push({ code: "parse", message: w.message, path: w.path, ...(w.line ? { line: w.line } : {}) });

  const statuses = sourceStatuses(resolved, parsed, skippedCommands(parsed), collectorCuts(parsed, resolved.root));
  return { bundle, resolved, parsed, statuses, warnings, ...(collectedAt ? { collectedAt } : {}) };
}

/** Sources with a file still being parsed by another thread. */
function sourcesReading(resolved: ResolvedBundle, unsettled: Set<string>): Set<string> {
  const ids = new Set<string>();
  if (unsettled.size === 0) return ids;
  for (const [id, files] of resolved.sources) if (files.some((f) => unsettled.has(f.path))) ids.add(id);
  return ids;
}

/** Metadata sources first, then the others, each in registry resolution order (as one pass would give). */
function inSourceOrder(resolved: ResolvedBundle, meta: ParsedSources, rest: ParsedSources): ParsedSources {
  const parsed: ParsedSources = new Map(meta);
  for (const id of resolved.sources.keys()) {
    const list = rest.get(id);
    if (list) parsed.set(id, list);
  }
  return parsed;
}

/** Files the collector cut or timed out on, by bundle path, with why: the reader cannot see that. */
function collectorCuts(parsed: ParsedSources, root: string): Map<string, string> {
  const cuts = new Map<string, string>();
  const manifest = parsed.get("collector-manifest")?.[0]?.value as CollectorManifest | undefined;
  if (!manifest) return cuts;
  const at = (p: string): string => (root ? `${root}/${p}` : p).replace(/\.gz$/, "");
  const limit = manifest.options.max_file_bytes;
  for (const c of manifest.commands) {
    if (c.timed_out) cuts.set(at(c.output), `the collector stopped \`${c.argv.join(" ")}\` at its timeout: output incomplete`);
    else if (c.truncated) cuts.set(at(c.output), `the collector cut the output at ${limit} bytes (--max-file-bytes)`);
  }
  for (const f of manifest.files) {
    if (!f.stored) continue;
    if (f.timed_out) cuts.set(at(f.stored), `the collector timed out copying ${f.path}: incomplete`);
    else if (f.truncated) cuts.set(at(f.stored), `the collector kept only part of ${f.path} (--max-file-bytes ${limit})`);
  }
  return cuts;
}

function sourceStatuses(resolved: ResolvedBundle, parsed: ParsedSources, skipped: Map<string, string>, cuts: Map<string, string>): SourceStatus[] {
  const out: SourceStatus[] = [];
  for (const spec of SOURCE_SPECS) {
    const files = resolved.sources.get(spec.id) ?? [];
    if (files.length > 0) {
      const cut = files.map((f) => cuts.get(f.path)).find((r) => r !== undefined);
      const truncated = files.find((f) => f.truncated) ?? (cut ? { truncated: cut } : undefined);
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
    // A per-namespace source is absent when there are no namespaces: the root's skips do not apply.
    const skip = spec.id.startsWith("netns-") ? undefined : skippedReason(spec.id, resolved, skipped);
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
