/**
 * Reads any bundle container (tar, compressed tar, zip, folder, single file, one level of
 * nesting) as a stream of regular-file members handed to a sink. Nothing is extracted to disk,
 * no link is followed out of the bundle, and every limit violation becomes a one-line warning.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import { Readable } from "node:stream";
import { Parser, type ReadEntry } from "tar";
import type unzipper from "unzipper";
import { decompressStream } from "./decompress.js";
import { BundleLimitError, type BundleLimits, formatBytes } from "./limits.js";
import { type ContainerKind, detectContainer, isCompression, stripCompressionSuffix } from "./magic.js";
import { normaliseMemberName } from "./member-name.js";

export interface MemberInfo {
  /** Normalised path inside the bundle. */
  path: string;
  /** Declared size, when the container knows it before reading (not for compressed members). */
  size?: number;
}

/** Receives the bytes of one regular file; the reader waits for a returned promise (backpressure). */
export interface MemberSink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
  /** The member could not be read to the end (truncated archive, corrupt data). */
  fail(reason: string): void | Promise<void>;
}

export interface MemberHandler {
  open(member: MemberInfo): MemberSink;
}

export interface ReadWarning {
  code: string;
  message: string;
  path?: string;
}

export interface ReadSummary {
  /** Outer container, then nested ones: e.g. ["zip", "xz", "tar"]. */
  containers: ContainerKind[];
  files: number;
  bytes: number;
  /** Symbolic and hard links inside the bundle: link path → normalised target path. */
  links: Map<string, string>;
  warnings: ReadWarning[];
  /** Set when reading stopped early; the files read before still count. */
  aborted?: string;
}

export type BundleInput = ({ kind: "path"; path: string } | { kind: "stdin"; name?: string }) & {
  /** Called as the input file is consumed (bytes read, file size): for a progress bar. */
  onProgress?: (read: number, total: number) => void;
};

const MAX_ARCHIVE_LEVEL = 2; // the outer archive plus one nested inside it
const SNIFF_BYTES = 512;
const MAX_NESTED_ZIP_BYTES = 512 * 1024 ** 2;
const MAX_WARNINGS_PER_CODE = 25;

class Reader {
  readonly summary: ReadSummary = { containers: [], files: 0, bytes: 0, links: new Map(), warnings: [] };
  private compressedBytes = 0;
  private skippedForCount = 0;
  private readonly warningCounts = new Map<string, number>();
  private abortError: BundleLimitError | undefined;

  constructor(
    private readonly handler: MemberHandler,
    private readonly limits: BundleLimits,
  ) {}

  warn(code: string, message: string, path?: string): void {
    const n = (this.warningCounts.get(code) ?? 0) + 1;
    this.warningCounts.set(code, n);
    if (n <= MAX_WARNINGS_PER_CODE) this.summary.warnings.push(path ? { code, message, path } : { code, message });
  }

  finish(): ReadSummary {
    for (const [code, n] of this.warningCounts) {
      if (n > MAX_WARNINGS_PER_CODE)
        this.summary.warnings.push({ code, message: `${n - MAX_WARNINGS_PER_CODE} more ${code} warnings not listed` });
    }
    if (this.skippedForCount > 0)
      this.summary.warnings.push({
        code: "too-many-files",
        message: `the bundle holds more than ${this.limits.maxFiles} files: ${this.skippedForCount} further files were not read`,
      });
    return this.summary;
  }

  get aborted(): boolean {
    return this.abortError !== undefined;
  }

  abort(err: BundleLimitError): void {
    if (!this.abortError) {
      this.abortError = err;
      this.summary.aborted = err.message;
    }
  }

  countCompressed(n: number): void {
    this.compressedBytes += n;
  }

  private account(n: number): void {
    this.summary.bytes += n;
    const { bytes } = this.summary;
    if (bytes > this.limits.maxTotalBytes)
      throw new BundleLimitError("total-bytes", `bundle exceeds ${formatBytes(this.limits.maxTotalBytes)} of content; reading stopped`);
    if (
      this.compressedBytes > 0 &&
      bytes > this.limits.ratioFloorBytes &&
      bytes / this.compressedBytes > this.limits.maxDecompressionRatio
    )
      throw new BundleLimitError(
        "decompression-ratio",
        `decompression bomb suspected: ${formatBytes(bytes)} inflated from ${formatBytes(this.compressedBytes)} ` +
          `(ratio over ${this.limits.maxDecompressionRatio}:1); reading stopped`,
      );
  }

  /** Reads one stream whose content is unknown: a compressed stream, an archive or a file. */
  async readStream(name: string, stream: Readable, level: number, declaredSize?: number, wrappers: ContainerKind[] = []): Promise<void> {
    const { head, rest } = await sniff(stream, SNIFF_BYTES);
    const kind = detectContainer(head);
    if (isCompression(kind)) {
      const inner = decompressStream(kind, rest);
      return this.readStream(stripCompressionSuffix(name, kind), inner, level, undefined, [...wrappers, kind]);
    }
    // Compression layers count as containers only around an archive or the bundle itself.
    if ((kind === "tar" || kind === "zip") && level < MAX_ARCHIVE_LEVEL) this.summary.containers.push(...wrappers);
    if (kind === "tar" && level < MAX_ARCHIVE_LEVEL) {
      this.summary.containers.push("tar");
      return this.readTar(rest, level + 1, level === 0 ? "" : archivePrefix(name));
    }
    if (kind === "zip" && level < MAX_ARCHIVE_LEVEL) {
      this.summary.containers.push("zip");
      const buf = await collect(rest, MAX_NESTED_ZIP_BYTES);
      if (!buf) {
        this.warn("nested-zip-too-large", `nested zip ${name} is over ${formatBytes(MAX_NESTED_ZIP_BYTES)}: not read`, name);
        return;
      }
      return this.readZip(await (await zipReader()).Open.buffer(buf), level + 1, archivePrefix(name));
    }
    if (level === 0) this.summary.containers.push(...wrappers, kind === "binary" ? "binary" : "text");
    return this.readFile(name, rest, declaredSize);
  }

  private async readFile(path: string, stream: Readable, size?: number): Promise<void> {
    if (this.summary.files >= this.limits.maxFiles) {
      this.skippedForCount++;
      stream.resume();
      return;
    }
    this.summary.files++;
    const sink = this.handler.open(size === undefined ? { path } : { path, size });
    try {
      for await (const chunk of stream) {
        if (this.aborted) throw this.abortError;
        const buf = chunk as Buffer;
        this.account(buf.length);
        const wait = sink.write(buf);
        if (wait) await wait;
      }
      await sink.end();
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      await sink.fail(reason);
      if (e instanceof BundleLimitError) this.abort(e);
      else this.warn("read-error", `${path}: ${reason}; what was read before is kept`, path);
    }
  }

  private async readTar(stream: Readable, level: number, prefix: string): Promise<void> {
    const parser = new Parser({ strict: false, maxDecompressionRatio: Number.POSITIVE_INFINITY });
    const pending: Promise<void>[] = [];
    parser.on("warn", (code: string, message: string | Error) => {
      const text = typeof message === "string" ? message : message.message;
      this.warn("tar", `${code}: ${text}`);
    });
    parser.on("ignoredEntry", (entry: ReadEntry) => {
      const { path } = normaliseMemberName(entry.path);
      const full = joinPrefix(prefix, path);
      if (entry.meta) this.warn("tar", `${full}: oversized metadata entry skipped`, full);
      else this.warn("not-a-file", `${full}: ${entry.type} entry (${formatBytes(entry.size ?? 0)}) skipped: only regular files are read`, full);
    });
    parser.on("entry", (entry: ReadEntry) => {
      if (this.aborted) {
        entry.resume();
        return;
      }
      pending.push(this.tarEntry(entry, level, prefix));
    });
    const done = new Promise<void>((resolve) => {
      parser.on("end", () => resolve());
      parser.on("close", () => resolve());
      parser.on("abort", () => resolve());
    });
    try {
      for await (const chunk of stream) {
        if (this.aborted) break;
        if (!parser.write(chunk as Buffer)) await new Promise((r) => parser.once("drain", r));
      }
      parser.end();
    } catch (e) {
      parser.end();
      if (e instanceof BundleLimitError) this.abort(e);
      else this.warn("archive-truncated", `archive ends early or is corrupt (${(e as Error).message}): the files read before are kept`);
    }
    await done;
    await Promise.all(pending);
  }

  private async tarEntry(entry: ReadEntry, level: number, prefix: string): Promise<void> {
    const { path, changed } = normaliseMemberName(entry.path);
    const full = joinPrefix(prefix, path);
    if (changed) this.warn("unsafe-name", `member name ${JSON.stringify(entry.path)} rewritten to ${JSON.stringify(full)} (${changed})`, full);
    switch (entry.type) {
      case "File":
      case "OldFile":
      case "ContiguousFile": {
        const declared = entry.size ?? 0;
        const stream = Readable.from(entry as unknown as AsyncIterable<Buffer>);
        let seen = 0;
        const counted = stream.on("data", (c: Buffer) => {
          seen += c.length;
        });
        await this.readStream(full, counted, level, declared);
        if (seen < declared) this.warn("member-truncated", `${full}: ${seen} of ${declared} bytes present (archive truncated)`, full);
        return;
      }
      case "SymbolicLink":
      case "Link": {
        const target = resolveLinkTarget(full, entry.linkpath ?? "", entry.type === "Link", prefix);
        if (target === null)
          this.warn("link-outside", `link ${full} -> ${JSON.stringify(entry.linkpath)} points outside the bundle: not followed`, full);
        else this.summary.links.set(full, target);
        entry.resume();
        return;
      }
      case "Directory":
      case "GNUDumpDir":
        entry.resume();
        return;
      default:
        this.warn("not-a-file", `${full}: ${entry.type} entry skipped (only regular files are read)`, full);
        entry.resume();
    }
  }

  async readZip(directory: unzipper.CentralDirectory, level: number, prefix: string): Promise<void> {
    for (const file of directory.files) {
      if (this.aborted) return;
      const { path, changed } = normaliseMemberName(file.path);
      const full = joinPrefix(prefix, path);
      if (changed) this.warn("unsafe-name", `member name ${JSON.stringify(file.path)} rewritten to ${JSON.stringify(full)} (${changed})`, full);
      if (file.type === "Directory") continue;
      const mode = (file.externalFileAttributes >>> 16) & 0o170000;
      if (mode === 0o120000) {
        this.warn("link-in-zip", `${full} is a symbolic link inside the zip: not followed`, full);
        continue;
      }
      if (mode !== 0 && mode !== 0o100000) {
        this.warn("not-a-file", `${full}: special file in zip skipped`, full);
        continue;
      }
      if ((file.flags & 1) === 1) {
        this.warn("encrypted", `${full} is encrypted (password-protected zip): not read`, full);
        continue;
      }
      try {
        await this.readStream(full, file.stream(), level, file.uncompressedSize);
      } catch (e) {
        if (e instanceof BundleLimitError) this.abort(e);
        else this.warn("read-error", `${full}: ${(e as Error).message}`, full);
      }
    }
  }

  async readDirectory(root: string): Promise<void> {
    this.summary.containers.push("directory" as ContainerKind);
    const walk = async (rel: string): Promise<void> => {
      let names: string[];
      try {
        names = (await readdir(join(root, rel))).sort();
      } catch (e) {
        this.warn("read-error", `${rel || "."}: ${(e as Error).message}`, rel);
        return;
      }
      for (const name of names) {
        if (this.aborted) return;
        const relPath = rel ? `${rel}/${name}` : name;
        const abs = join(root, relPath);
        const st = await lstat(abs);
        if (st.isDirectory()) await walk(relPath);
        else if (st.isSymbolicLink()) {
          const target = resolveLinkTarget(relPath, await readlink(abs), false, "");
          if (target === null) this.warn("link-outside", `link ${relPath} points outside the bundle: not followed`, relPath);
          else this.summary.links.set(relPath, target);
        } else if (st.isFile()) {
          const stream = createReadStream(abs);
          await this.readStream(relPath, stream, 1, st.size);
        } else this.warn("not-a-file", `${relPath}: not a regular file (FIFO, socket or device): skipped`, relPath);
      }
    };
    await walk("");
  }
}

function joinPrefix(prefix: string, path: string): string {
  return prefix ? `${prefix}/${path}` : path;
}

/** A nested archive's members live under its name minus the archive suffixes. */
function archivePrefix(name: string): string {
  return name.replace(/\.(tar|zip)$/i, "");
}

/** Resolves a link target relative to the link; null when it leaves the bundle. */
function resolveLinkTarget(linkPath: string, target: string, hard: boolean, prefix: string): string | null {
  if (target === "" || target.startsWith("/")) return null;
  const base = hard ? prefix : posix.dirname(linkPath);
  const joined = posix.normalize(posix.join(base === "." ? "" : base, target));
  if (joined.startsWith("..") || joined.startsWith("/")) return null;
  if (prefix && !joined.startsWith(`${prefix}/`) && joined !== prefix) return null;
  return joined.replace(/\/$/, "");
}

async function sniff(stream: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const c = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
    chunks.push(c);
    size += c.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head, rest: Readable.from(replay(), { objectMode: false }) };
}

async function collect(stream: Readable, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size > max) {
      stream.destroy();
      return null;
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The zip reader, loaded for zip bundles only: it weighs 12 MB of memory in every thread that loads it. */
async function zipReader(): Promise<typeof unzipper> {
  return (await import("unzipper")).default;
}

/** Reads a bundle from a path (file or folder) or standard input into the handler. */
export async function readBundle(input: BundleInput, handler: MemberHandler, limits: BundleLimits): Promise<ReadSummary> {
  const reader = new Reader(handler, limits);
  try {
    if (input.kind === "stdin") {
      process.stdin.on("data", (c: Buffer) => reader.countCompressed(c.length));
      await reader.readStream(input.name ?? "stdin", process.stdin, 0);
    } else {
      const st = await lstat(input.path);
      if (st.isDirectory()) await reader.readDirectory(input.path);
      else if (!st.isFile()) throw new BundleLimitError("not-a-file", `${input.path} is not a regular file or folder`);
      else {
        const { head } = await sniff(createReadStream(input.path, { end: SNIFF_BYTES - 1 }), SNIFF_BYTES);
        if (detectContainer(head) === "zip") {
          reader.summary.containers.push("zip");
          reader.countCompressed(st.size);
          await reader.readZip(await (await zipReader()).Open.file(input.path), 1, "");
        } else {
          const stream = createReadStream(input.path, { highWaterMark: 1 << 20 });
          let read = 0;
          stream.on("data", (c) => {
            reader.countCompressed(c.length);
            read += c.length;
            input.onProgress?.(read, st.size);
          });
          await reader.readStream(basename(input.path), stream, 0, st.size);
        }
      }
    }
  } catch (e) {
    if (e instanceof BundleLimitError) reader.abort(e);
    else {
      const err = e as NodeJS.ErrnoException;
      const reason = err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : err.message;
      reader.abort(new BundleLimitError("read-error", reason));
    }
  }
  return reader.finish();
}
