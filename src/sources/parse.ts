/** Runs each source's parser once per file; streamed files were parsed while the archive was read. */
import type { StreamRouter } from "../bundle/bundle.js";
import { ParallelTableFeeder, parallelTableAvailable } from "../parsers/conntrack/parallel-table.js";
import { type MemberOrigin, RereadTableParser, rereadAvailable } from "../parsers/conntrack/reread-table.js";
import { type KernelLogFacts, settleSyslogYears } from "../parsers/kernel-log.js";
import type { LineParser, ParseContext, ParseResult, ParseWarning, ParserFactory } from "../parsers/types.js";
import { globToRegExp } from "./glob.js";
import { PARSERS } from "./parsers.js";
import { type ParserKey, type SourceSpec, SOURCE_SPECS, SOURCE_BY_ID } from "./registry.js";
import type { ResolvedBundle, SourceFile } from "./resolve.js";

export interface ParsedSource<T = unknown> {
  sourceId: string;
  path: string;
  netns?: string;
  value: T;
  warnings: ParseWarning[];
  truncated?: string;
}

export type ParsedSources = Map<string, ParsedSource[]>;

type ParserTable = Map<ParserKey, ParserFactory<unknown>>;

/** The parser of every registry key (kept async so callers need not change if loading becomes lazy). */
export async function loadParsers(): Promise<ParserTable> {
  return new Map(Object.entries(PARSERS) as [ParserKey, ParserFactory<unknown>][]);
}

/** A registry glob as a regex matching it at the end of a member name (any folder prefix). */
function suffixRegExp(glob: string): RegExp {
  return new RegExp(`(^|/)${globToRegExp(glob).source.slice(1, -1)}$`);
}

/**
 * Streaming routes: each spec's own `streamable` pattern first, then the exact paths of the specs
 * that share a streaming parser without a pattern of their own (`iptables-legacy-save`,
 * `iptables-nft-save`, netns rule dumps…), so that a big dump in any of them streams instead of
 * being cut at the in-memory limit.
 */
function streamRoutes(): { spec: SourceSpec; pattern: RegExp }[] {
  const routes: { spec: SourceSpec; pattern: RegExp }[] = [];
  const streamingParsers = new Set<ParserKey>();
  for (const s of SOURCE_SPECS)
    if (s.streamable) {
      routes.push({ spec: s, pattern: s.streamable });
      streamingParsers.add(s.parser);
    }
  for (const s of SOURCE_SPECS) {
    if (s.streamable || !streamingParsers.has(s.parser)) continue;
    for (const globs of Object.values(s.paths)) for (const g of globs ?? []) routes.push({ spec: s, pattern: suffixRegExp(g) });
  }
  return routes;
}

/**
 * Conntrack dumps at least this big are parsed on two threads (a worker takes every other few
 * MiB). Below it a worker's start-up (~50 ms) costs more than it saves. NFDIAG_PARALLEL_MIN_BYTES
 * overrides it (tests use it to send a small dump through the worker).
 */
const PARALLEL_MIN_BYTES = Number(process.env.NFDIAG_PARALLEL_MIN_BYTES) || 64 * 1024 ** 2;

/** Routes large files to their parser by path while the archive streams. */
export function streamRouter(parsers: ParserTable, ctx: Omit<ParseContext, "path">): StreamRouter {
  const routes = streamRoutes();
  return {
    route(path) {
      const spec = routes.find((r) => r.pattern.test(path))?.spec;
      const factory = spec ? parsers.get(spec.parser) : undefined;
      if (!spec || !factory) return null;
      const parallel = spec.parser === "conntrack-table" && parallelTableAvailable();
      return {
        sourceId: spec.id,
        start: (p) => factory({ ...ctx, path: p }),
        ...(parallel ? { startChunked: (p: string, size: number, origin?: MemberOrigin) => (size < PARALLEL_MIN_BYTES ? null : origin && rereadAvailable() ? new RereadTableParser(p, origin) : new ParallelTableFeeder(p)) } : {}),
      };
    },
  };
}

function runParser(factory: ParserFactory<unknown>, file: SourceFile, ctx: Omit<ParseContext, "path">) {
  const parser: LineParser<unknown> = factory({ ...ctx, path: file.path });
  const text = file.text ?? "";
  let start = 0;
  let n = file.lineOffset;
  while (start < text.length) {
    let nl = text.indexOf("\n", start);
    if (nl === -1) nl = text.length;
    const line = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
    parser.push(line, ++n);
    start = nl + 1;
  }
  return parser.end();
}

export function parseSources(
  resolved: ResolvedBundle,
  parsers: ParserTable,
  ctx: Omit<ParseContext, "path">,
  only?: (sourceId: string) => boolean,
): ParsedSources {
  const out: ParsedSources = new Map();
  for (const [sourceId, files] of resolved.sources) {
    if (only && !only(sourceId)) continue;
    const spec = SOURCE_BY_ID.get(sourceId);
    const factory = spec ? parsers.get(spec.parser) : undefined;
    if (!spec || !factory) continue;
    const list: ParsedSource[] = [];
    for (const file of files) {
      let result: { value: unknown; warnings: ParseWarning[] };
      // A file streamed under another source by the same parser (a netns iptables-save, say) has the same result.
      if (file.streamed && (file.streamed.sourceId === sourceId || SOURCE_BY_ID.get(file.streamed.sourceId)?.parser === spec.parser)) {
        result = file.streamed.result;
        // Parsed before the collection time was known.
        if (spec.parser === "kernel-log" && result.value !== undefined) settleSyslogYears(result as ParseResult<KernelLogFacts>, ctx.collectedAt);
      }
      else if (file.streamed) continue; // streamed for another parser: its text is gone
      else {
        try {
          result = runParser(factory, file, ctx);
        } catch (e) {
          // A parser must not throw; if one does, the rest of the bundle still gets analyzed.
          result = { value: undefined, warnings: [{ path: file.path, message: `parser ${spec.parser} failed: ${(e as Error).message}` }] };
        }
      }
      if (result.value === undefined) continue;
      list.push({
        sourceId,
        path: file.path,
        value: result.value,
        warnings: result.warnings,
        ...(file.netns ? { netns: file.netns } : {}),
        ...(file.truncated ? { truncated: file.truncated } : {}),
      });
    }
    if (list.length > 0) out.set(sourceId, list);
  }
  return out;
}
