/** Streams a compressed input into its decompressed bytes: Node's zlib, else the system tool, else WebAssembly. */
import { spawn, spawnSync } from "node:child_process";
import { PassThrough, Readable, Transform } from "node:stream";
import { createBunzip2Fallback } from "./bzip2-missing.js";
import { createGunzip } from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";

export type Compression = "gzip" | "xz" | "zstd" | "bzip2";

const toolCache = new Map<string, boolean>();
function hasTool(name: string): boolean {
  let found = toolCache.get(name);
  if (found === undefined) {
    found = spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0;
    toolCache.set(name, found);
  }
  return found;
}

/** Pipes `input` through `cmd -dc`; errors (corrupt data, truncation) surface on the returned stream. */
function viaTool(cmd: string, input: Readable, extraArgs: string[] = []): Readable {
  const child = spawn(cmd, [...extraArgs, "-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  const out = new PassThrough();
  input.on("error", (e) => {
    child.kill();
    out.destroy(e);
  });
  child.stdin.on("error", () => {
    /* the tool exited early (corrupt input); its exit code reports it */
  });
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on("close", (code) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`${cmd} -dc failed (exit ${code}): ${stderr.trim().split("\n")[0] ?? ""}`));
  });
  out.on("close", () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}

function zstdInJs(input: Readable): Readable {
  const out = new PassThrough();
  const dec = new ZstdDecompress((chunk: Uint8Array) => {
    out.write(Buffer.from(chunk));
  });
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        dec.push(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        dec.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  input.pipe(t);
  t.on("error", (e) => out.destroy(e));
  t.on("finish", () => out.end());
  t.resume();
  return out;
}

/** Tests set `useTools: false` to exercise the in-process fallbacks. */
export function decompressStream(kind: Compression, input: Readable, opts: { useTools?: boolean } = {}): Readable {
  const tool = (name: string): boolean => opts.useTools !== false && hasTool(name);
  switch (kind) {
    case "gzip": {
      // 1 MiB output chunks: with the default 16 KiB, the per-chunk stream work costs more than inflating.
      const gunzip = createGunzip({ chunkSize: 1 << 20 });
      input.on("error", (e) => gunzip.destroy(e));
      return input.pipe(gunzip);
    }
    case "xz":
      // -T0: xz 5.4+ decompresses multi-block files (xz -T0 makes them) on every core; older xz ignores it.
      if (tool("xz")) return viaTool("xz", input, ["-T0"]);
      // The JavaScript decoder weighs 8 MB once loaded: only when there is no xz tool.
      return loadedLater(async () => {
        const { default: xzDecompress } = await import("xz-decompress");
        return Readable.fromWeb(new xzDecompress.XzReadableStream(Readable.toWeb(input) as ReadableStream<Uint8Array>) as never);
      });
    case "zstd":
      return tool("zstd") ? viaTool("zstd", input) : zstdInJs(input);
    case "bzip2":
      return tool("bzip2") ? viaTool("bzip2", input) : createBunzip2Fallback(input);
  }
}

/** A stream whose source needs a module loaded first. */
function loadedLater(make: () => Promise<Readable>): Readable {
  const out = new PassThrough();
  make().then(
    (source) => {
      source.on("error", (e) => out.destroy(e));
      source.pipe(out);
    },
    (e: Error) => out.destroy(e),
  );
  return out;
}
