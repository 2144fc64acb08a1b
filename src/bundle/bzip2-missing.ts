import { Readable } from "node:stream";

/** No bzip2 decoder in Node: without the `bzip2` command the member cannot be read. */
export function createBunzip2Fallback(input: Readable): Readable {
  input.resume();
  const out = new Readable({ read() {} });
  queueMicrotask(() =>
    out.destroy(new Error("bzip2 data needs the `bzip2` command (apt-get install bzip2); it is not installed")),
  );
  return out;
}
