/**
 * Parses a big conntrack dump on two cores: the archive's chunks are dealt out in turns of a few
 * MiB; a turn goes (as whole lines) to a worker thread when it has room (fewer than MAX_IN_FLIGHT
 * segments waiting), else it is parsed here, so neither thread waits for the other and each
 * takes the share its speed allows. At the end the worker's state is merged into this thread's.
 * Counts, samples and line numbers come out as from one parser; the top lists are exact unless a
 * map passed its cap (then both halves' Misra-Gries summaries are merged, still with their
 * overcount bound).
 *
 * Used only when the worker script exists next to this module (the built package), so the same
 * code runs from TypeScript sources (tests) on one thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ByteLineSplitter } from "../../bundle/lines.js";
import type { ParseResult } from "../types.js";
import { type ConntrackTable, create, type MergeableTableParser, type TableState } from "../conntrack-table.js";

/** Bytes parsed per turn before the next turn goes to the other thread. */
const TURN_BYTES = 4 * 1024 ** 2;
/** Segments posted and not yet parsed; with that many out, this thread takes the next turn too. */
const MAX_IN_FLIGHT = 3;

const WORKER_URL = new URL("./table-worker.js", import.meta.url);

export function parallelTableAvailable(): boolean {
  return WORKER_URL.protocol === "file:" && existsSync(fileURLToPath(WORKER_URL));
}

type WorkerReply = { kind: "done"; bytes: Uint8Array } | { kind: "state"; state: TableState; longLines: number[] };

export class ParallelTableFeeder {
  private readonly local: MergeableTableParser;
  private readonly splitter: ByteLineSplitter;
  private readonly worker: Worker;
  private turnBytes = 0;
  private workerTurn = false;
  /** The current worker turn has passed the line that was in progress when it began. */
  private headDone = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private inFlight = 0;
  private finalState: ((reply: { state: TableState; longLines: number[] }) => void) | undefined;
  private failure: Error | undefined;
  /** Segment buffers the worker gave back, reused so that memory stays at a few segments. */
  private readonly spare: ArrayBuffer[] = [];
  private readonly turnSize: number;

  constructor(
    private readonly path: string,
    options: { turnBytes?: number } = {},
  ) {
    this.turnSize = options.turnBytes ?? TURN_BYTES;
    this.local = create({ path }) as MergeableTableParser;
    this.splitter = new ByteLineSplitter((b, s, e, n) => this.local.pushBytes?.(b, s, e, n));
    this.worker = new Worker(WORKER_URL, { workerData: { path } });
    this.worker.on("message", (m: WorkerReply) => {
      if (m.kind === "done") {
        this.inFlight--;
        if (this.spare.length < MAX_IN_FLIGHT + 1) this.spare.push(m.bytes.buffer as ArrayBuffer);
      } else this.finalState?.(m);
    });
    this.worker.on("error", (e) => {
      this.failure = e;
      this.finalState?.({ state: emptyState(), longLines: [] });
    });
  }

  /** Lines read so far by both threads (all of them after `end`). */
  get lines(): number {
    return this.splitter.lines;
  }

  get longLines(): number[] {
    return this.splitter.longLines;
  }

  /** Takes the next chunk of the file (never waits: a busy worker means this thread parses). */
  write(chunk: Buffer): void {
    if (!this.workerTurn) {
      this.splitter.write(chunk);
      this.turnBytes += chunk.length;
      if (this.turnBytes >= this.turnSize && !this.failure && this.inFlight < MAX_IN_FLIGHT) {
        this.workerTurn = true;
        this.headDone = this.splitter.atLineStart;
        this.turnBytes = 0;
      }
      return;
    }
    if (!this.headDone) {
      // Finish the line in progress here, so that the worker's segment starts at a line start.
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        this.splitter.write(chunk);
        return;
      }
      this.splitter.write(chunk.subarray(0, nl + 1));
      chunk = chunk.subarray(nl + 1);
      this.headDone = true;
    }
    this.parts.push(chunk);
    this.partBytes += chunk.length;
    if (this.partBytes < this.turnSize) return;
    this.postSegment();
  }

  async end(): Promise<ParseResult<ConntrackTable>> {
    if (this.workerTurn) this.postSegment();
    this.splitter.end();
    const reply = await new Promise<{ state: TableState; longLines: number[] }>((resolve) => {
      this.finalState = resolve;
      if (this.failure) resolve({ state: emptyState(), longLines: [] });
      else this.worker.postMessage({ kind: "end" });
    });
    await this.worker.terminate();
    this.local.absorb(reply.state);
    const result = this.local.end();
    if (this.failure) result.warnings.push({ path: this.path, message: `the second parsing thread failed (${this.failure.message}): part of the dump is not counted` });
    for (const n of reply.longLines) if (!this.splitter.longLines.includes(n) && this.splitter.longLines.length < 5) this.splitter.longLines.push(n);
    this.splitter.longLines.sort((a, b) => a - b);
    return result;
  }

  /** Posts the collected whole lines to the worker; the bytes after the last newline stay here. */
  private postSegment(): void {
    this.workerTurn = false;
    const parts = this.parts;
    this.parts = [];
    const total = this.partBytes;
    this.partBytes = 0;
    if (total === 0) return;
    // Own memory (never Node's shared pool), so that it can be transferred without a copy.
    const reuse = this.spare.findIndex((b) => b.byteLength >= total);
    const memory = reuse >= 0 ? (this.spare.splice(reuse, 1)[0] as ArrayBuffer) : Buffer.allocUnsafeSlow(Math.max(total, this.turnSize + (this.turnSize >> 2))).buffer;
    const segment = Buffer.from(memory, 0, total);
    let at = 0;
    for (const p of parts) {
      p.copy(segment, at);
      at += p.length;
    }
    const lastNl = segment.lastIndexOf(10);
    if (lastNl === -1 || this.failure) {
      this.splitter.write(segment);
      return;
    }
    const body = segment.subarray(0, lastNl + 1);
    let lines = 0;
    for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines++;
    const firstLine = this.splitter.lines + 1;
    this.splitter.skipLines(lines);
    // The tail is copied by the splitter before the buffer is handed over.
    this.splitter.write(segment.subarray(lastNl + 1));
    this.inFlight++;
    this.worker.postMessage({ kind: "segment", bytes: body, firstLine }, [segment.buffer]);
  }
}

/** A state that adds nothing (the worker failed before it could answer). */
function emptyState(): TableState {
  return (create({ path: "" }) as MergeableTableParser).snapshot();
}
