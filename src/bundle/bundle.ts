/**
 * The in-memory view of a bundle: every regular file by normalised path, small files held as
 * bytes, large streamable ones parsed while the archive streams (their parse result kept instead).
 */
import { lstat, open as openFile } from "node:fs/promises";
import { type ParseResult } from "../parsers/types.js";
import { BundleLimitError, type BundleLimits, DEFAULT_LIMITS, formatBytes } from "./limits.js";
import { ByteLineSplitter, LineSplitter } from "./lines.js";
import { type BundleInput, type MemberHandler, type MemberSink, type ReadSummary, readBundle } from "./read.js";
import { detectContainer } from "./magic.js";
import type { MemberOrigin } from "../parsers/conntrack/reread-table.js";

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
  /**
   * The content decoded as UTF-8, for a file held in memory. Decoded when the member ends, so that
   * the archive's chunks it came in (1 MiB each, shared with the members around it) are let go
   * straight away instead of living until every member is read.
   */
  text?: string;
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
    /**
     * For a file of this declared size, a parser that takes chunks (null: use `start`). `origin`
     * is given when the member can be read again from the bundle file by another thread.
     */
    startChunked?: (path: string, size: number, origin?: MemberOrigin) => ChunkedParser | null;
  } | null;
}

export interface Bundle {
  input: string;
  containers: string[];
  files: Map<string, BundleFile>;
  links: Map<string, string>;
  summary: ReadSummary;
  /**
   * Files whose parse is still running on another thread (with `settleLater`): their `streamed`
   * is filled in once `settled` resolves.
   */
  unsettled: Set<string>;
  settled: Promise<void>;
}

export interface OpenOptions {
  /** Return once the archive is read, before other threads finish parsing big members. */
  settleLater?: boolean;
}

class FileCollector implements MemberHandler {
  readonly files = new Map<string, BundleFile>();
  /**
   * Chunked parsers still finishing (a worker thread still parsing its member): the archive
   * moves on to the next member meanwhile, and the bundle is complete once they all settle.
   */
  readonly finishing: Promise<void>[] = [];
  /** Paths of the files in `finishing`. */
  readonly unsettled = new Set<string>();
  /** Where warnings raised after the read go (the summary's list, once it exists). */
  lateWarnings: { code: string; message: string; path?: string }[] | undefined;
  private inMemory = 0;
  /** Members seen per path (a tar may hold one name twice). */
  private readonly occurrences = new Map<string, number>();

  constructor(
    private readonly limits: BundleLimits,
    private readonly router: StreamRouter,
    private readonly warn: (code: string, message: string, path: string) => void,
    /** The bundle file when members can be read again from it cheaply. */
    private readonly rereadable?: string,
  ) {}

  open(member: { path: string; size?: number }): MemberSink {
    const occurrence = this.occurrences.get(member.path) ?? 0;
    this.occurrences.set(member.path, occurrence + 1);
    const origin: MemberOrigin | undefined = this.rereadable ? { input: this.rereadable, member: member.path, occurrence, limits: this.limits } : undefined;
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
    const chunked = member.size !== undefined && member.size > this.limits.maxInMemoryFileBytes ? route?.startChunked?.(file.path, member.size, origin) : null;
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
        } else file.text = takeText(chunks);
      },
      fail: (reason) => {
        file.truncated ??= `read stopped early: ${reason}`;
        if (splitter && parser && route) file.streamed = { sourceId: route.sourceId, result: parser.end(), lines: splitter.end() };
        else file.text = takeText(chunks);
      },
    };
  }

  private chunkedSink(file: BundleFile, declared: number | undefined, sourceId: string, parser: ChunkedParser): MemberSink {
    // Filled in when the parser ends; the object is shared with whoever resolved the file before.
    const streamed: StreamedParse = { sourceId, result: { value: undefined, warnings: [] }, lines: 0 };
    const finish = async (): Promise<void> => {
      try {
        streamed.result = await parser.end();
        streamed.lines = parser.lines;
      } catch (e) {
        const message = `${file.path}: not parsed: ${(e as Error).message}`;
        streamed.result = { value: undefined, warnings: [{ path: file.path, message }] };
        if (this.lateWarnings) this.lateWarnings.push({ code: "parse-failed", message, path: file.path });
        else this.warn("parse-failed", message, file.path);
        return;
      } finally {
        this.unsettled.delete(file.path);
      }
      const long = parser.longLines;
      if (long.length > 0) streamed.result.warnings.push({ path: file.path, line: long[0], message: `lines over 1 MiB were cut (first at line ${long[0]})` });
    };
    const settle = (): void => {
      markShort(file, declared);
      file.streamed = streamed;
      this.unsettled.add(file.path);
      this.finishing.push(finish());
    };
    return {
      write: (chunk) => {
        file.size += chunk.length;
        return parser.write(chunk);
      },
      end: settle,
      fail: (reason) => {
        file.truncated ??= `read stopped early: ${reason}`;
        settle();
      },
    };
  }
}

/** The chunks decoded as one UTF-8 text; the list is emptied so that nothing holds them any more. */
function takeText(chunks: Buffer[]): string {
  const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
  chunks.length = 0;
  return text;
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
  options: OpenOptions = {},
): Promise<Bundle> {
  const warnings: { code: string; message: string; path: string }[] = [];
  const collector = new FileCollector(limits, router, (code, message, path) => warnings.push({ code, message, path }), await rereadablePath(input));
  const summary = await readBundle(input, collector, limits);
  collector.lateWarnings = summary.warnings;
  const settled = Promise.all(collector.finishing).then(() => undefined);
  if (!options.settleLater) await settled;
  for (const w of warnings) summary.warnings.push(w);
  if (summary.files === 0 && summary.aborted) {
    await settled;
    throw new BundleLimitError("unreadable", summary.aborted);
  }
  return {
    input: input.kind === "path" ? input.path : "-",
    containers: summary.containers,
    files: collector.files,
    links: summary.links,
    summary,
    unsettled: collector.unsettled,
    settled,
  };
}

/**
 * The bundle file when another thread may read it again: a .tar.gz, plain .tar or .zip on disk.
 * Not standard input (it cannot be read twice), nor xz/bzip2/zstd archives (decompressing them
 * twice costs more than it saves), nor folders.
 */
async function rereadablePath(input: BundleInput): Promise<string | undefined> {
  if (input.kind !== "path") return undefined;
  try {
    if (!(await lstat(input.path)).isFile()) return undefined;
    const handle = await openFile(input.path, "r");
    try {
      const head = Buffer.alloc(512);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const kind = detectContainer(head.subarray(0, bytesRead));
      return kind === "gzip" || kind === "tar" || kind === "zip" ? input.path : undefined;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
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
