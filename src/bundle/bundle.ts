/**
 * The in-memory view of a bundle: every regular file by normalised path, small files held as
 * bytes, large streamable ones parsed while the archive streams (their parse result kept instead).
 */
import { type ParseResult } from "../parsers/types.js";
import { BundleLimitError, type BundleLimits, DEFAULT_LIMITS, formatBytes } from "./limits.js";
import { ByteLineSplitter, LineSplitter } from "./lines.js";
import { type BundleInput, type MemberHandler, type MemberSink, type ReadSummary, readBundle } from "./read.js";

/** A parser run on a large file while it streamed. */
export interface StreamedParse {
  sourceId: string;
  result: ParseResult<unknown>;
  lines: number;
}

export interface BundleFile {
  path: string;
  /** Bytes read (decompressed). */
  size: number;
  data?: Buffer;
  streamed?: StreamedParse;
  /** Set when only part of the file could be kept or read, with the reason. */
  truncated?: string;
}

/** A parser fed while the archive streams: by bytes when it can take them (no string per line). */
export interface StreamingParser {
  push(line: string, n: number): void;
  pushBytes?(buf: Uint8Array, start: number, end: number, n: number): void;
  end(): ParseResult<unknown>;
}

/** A parser that takes the file's raw chunks and splits them itself (on more than one thread). */
export interface ChunkedParser {
  write(chunk: Buffer): void | Promise<void>;
  end(): Promise<ParseResult<unknown>>;
  readonly longLines: number[];
  readonly lines: number;
}

/** Chooses a streaming parser for a large file by its path, before the layout is known. */
export interface StreamRouter {
  route(path: string): {
    sourceId: string;
    start: (path: string) => StreamingParser;
    /** For a file of this declared size, a parser that takes chunks (null: use `start`). */
    startChunked?: (path: string, size: number) => ChunkedParser | null;
  } | null;
}

export interface Bundle {
  input: string;
  containers: string[];
  files: Map<string, BundleFile>;
  links: Map<string, string>;
  summary: ReadSummary;
}

class FileCollector implements MemberHandler {
  readonly files = new Map<string, BundleFile>();
  private inMemory = 0;

  constructor(
    private readonly limits: BundleLimits,
    private readonly router: StreamRouter,
    private readonly warn: (code: string, message: string, path: string) => void,
  ) {}

  open(member: { path: string; size?: number }): MemberSink {
    const file: BundleFile = { path: uniquePath(this.files, member.path), size: 0 };
    this.files.set(file.path, file);
    const route = this.router.route(file.path);
    const chunks: Buffer[] = [];
    let held = 0;
    let splitter: LineSplitter | ByteLineSplitter | undefined;
    let parser: StreamingParser | undefined;
    const startStreaming = (): void => {
      if (!route) return;
      parser = route.start(file.path);
      const p = parser;
      const pushBytes = p.pushBytes?.bind(p);
      splitter = pushBytes ? new ByteLineSplitter(pushBytes) : new LineSplitter((line, n) => p.push(line, n));
      for (const c of chunks) splitter.write(c);
      this.inMemory -= held;
      chunks.length = 0;
      held = 0;
    };
    const chunked = member.size !== undefined && member.size > this.limits.maxInMemoryFileBytes ? route?.startChunked?.(file.path, member.size) : null;
    if (chunked && route) return this.chunkedSink(file, member.size, route.sourceId, chunked);
    if (route && member.size !== undefined && member.size > this.limits.maxInMemoryFileBytes) startStreaming();
    return {
      write: (chunk) => {
        file.size += chunk.length;
        if (splitter) {
          splitter.write(chunk);
          return;
        }
        if (file.truncated) return;
        const overFile = held + chunk.length > this.limits.maxInMemoryFileBytes;
        const overTotal = this.inMemory + chunk.length > this.limits.maxInMemoryTotalBytes;
        if ((overFile || overTotal) && route) {
          startStreaming();
          (splitter as LineSplitter | ByteLineSplitter | undefined)?.write(chunk);
          return;
        }
        if (overFile || overTotal) {
          file.truncated = overFile
            ? `larger than ${formatBytes(this.limits.maxInMemoryFileBytes)} and not a streamed source: only the first part was kept`
            : `the bundle's in-memory budget of ${formatBytes(this.limits.maxInMemoryTotalBytes)} is spent: only the first part was kept`;
          this.warn("file-cut", `${file.path}: ${file.truncated}`, file.path);
          return;
        }
        chunks.push(chunk);
        held += chunk.length;
        this.inMemory += chunk.length;
      },
      end: () => {
        markShort(file, member.size);
        if (splitter && parser && route) {
          const lines = splitter.end();
          file.streamed = { sourceId: route.sourceId, result: parser.end(), lines };
          if (splitter.longLines.length > 0)
            file.streamed.result.warnings.push({ path: file.path, line: splitter.longLines[0], message: `lines over 1 MiB were cut (first at line ${splitter.longLines[0]})` });
        } else file.data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      },
      fail: (reason) => {
        file.truncated ??= `read stopped early: ${reason}`;
        if (splitter && parser && route) file.streamed = { sourceId: route.sourceId, result: parser.end(), lines: splitter.end() };
        else file.data = Buffer.concat(chunks);
      },
    };
  }

  private chunkedSink(file: BundleFile, declared: number | undefined, sourceId: string, parser: ChunkedParser): MemberSink {
    const finish = async (): Promise<void> => {
      markShort(file, declared);
      file.streamed = { sourceId, result: await parser.end(), lines: parser.lines };
      const long = parser.longLines;
      if (long.length > 0) file.streamed.result.warnings.push({ path: file.path, line: long[0], message: `lines over 1 MiB were cut (first at line ${long[0]})` });
    };
    return {
      write: (chunk) => {
        file.size += chunk.length;
        return parser.write(chunk);
      },
      end: finish,
      fail: async (reason) => {
        file.truncated ??= `read stopped early: ${reason}`;
        await finish();
      },
    };
  }
}

/** A member that ended before its declared size (a truncated archive) is a truncated source. */
function markShort(file: BundleFile, declared: number | undefined): void {
  if (declared !== undefined && file.size < declared) file.truncated ??= `only ${file.size} of ${declared} bytes present (archive truncated)`;
}

/** Two members with the same normalised name keep both: the second gets a `~2` suffix. */
function uniquePath(files: Map<string, BundleFile>, path: string): string {
  if (!files.has(path)) return path;
  for (let i = 2; ; i++) if (!files.has(`${path}~${i}`)) return `${path}~${i}`;
}

export async function openBundle(
  input: BundleInput,
  router: StreamRouter,
  limits: BundleLimits = DEFAULT_LIMITS,
): Promise<Bundle> {
  const warnings: { code: string; message: string; path: string }[] = [];
  const collector = new FileCollector(limits, router, (code, message, path) => warnings.push({ code, message, path }));
  const summary = await readBundle(input, collector, limits);
  for (const w of warnings) summary.warnings.push(w);
  if (summary.files === 0 && summary.aborted)
    throw new BundleLimitError("unreadable", summary.aborted);
  return {
    input: input.kind === "path" ? input.path : "-",
    containers: summary.containers,
    files: collector.files,
    links: summary.links,
    summary,
  };
}

/** Follows in-bundle links component by component; returns the real path if it exists. */
export function resolveInBundle(bundle: Pick<Bundle, "files" | "links">, path: string, hops = 0): string | undefined {
  if (bundle.files.has(path)) return path;
  if (hops > 40) return undefined;
  const parts = path.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const head = parts.slice(0, i).join("/");
    const target = bundle.links.get(head);
    if (target !== undefined) {
      const rest = parts.slice(i).join("/");
      return resolveInBundle(bundle, rest ? `${target}/${rest}` : target, hops + 1);
    }
  }
  return undefined;
}
