/**
 * Worker thread that parses its share of a big conntrack dump: whole-line segments posted by
 * ParallelTableFeeder, each with the number of its first line. Answers each segment with "done"
 * (the sender's backpressure; the segment's buffer travels back for reuse) and, at the end, with the parser's mergeable state.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ByteLineSplitter } from "../../bundle/lines.js";
import { create, type MergeableTableParser } from "../conntrack-table.js";

type Message = { kind: "segment"; bytes: Uint8Array; firstLine: number } | { kind: "end" };

const port = parentPort;
if (port) {
  const parser = create({ path: (workerData as { path: string }).path }) as MergeableTableParser;
  const longLines: number[] = [];
  port.on("message", (m: Message) => {
    if (m.kind === "segment") {
      const buf = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      const splitter = new ByteLineSplitter((b, s, e, n) => parser.pushBytes?.(b, s, e, n), m.firstLine);
      splitter.write(buf);
      splitter.end();
      longLines.push(...splitter.longLines.slice(0, 5 - longLines.length));
      // The buffer goes back to be filled again: no new 4 MiB per segment for the GC to find.
      port.postMessage({ kind: "done", bytes: m.bytes }, [m.bytes.buffer as ArrayBuffer]);
      return;
    }
    port.postMessage({ kind: "state", state: parser.snapshot(), longLines });
  });
}
