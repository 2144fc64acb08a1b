/**
 * Parses a big conntrack dump on a second thread that reads it from the bundle file itself, so
 * that this thread only passes the member by and goes on with the rest of the archive (the kernel
 * logs and everything after them) meanwhile. Decompressing the archive twice up to the end of the
 * dump costs far less than the parse it takes off this thread, and holds no extra memory: nothing
 * is handed between the threads but the dump's compact result. Used for inputs that can be read
 * again cheaply (a file in a .tar.gz, plain .tar or .zip, or a folder); others use
 * ParallelTableFeeder.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { BundleLimits } from "../../bundle/limits.js";
import type { ParseResult } from "../types.js";
import type { ConntrackTable } from "../conntrack-table.js";

/** Where a member can be read again: the bundle file and the member's place in it. */
export interface MemberOrigin {
  /** The bundle's path on disk. */
  input: string;
  /** The member's normalised path, as the reader names it. */
  member: string;
  /** How many earlier members had the same path (a tar may hold one name twice). */
  occurrence: number;
  limits: BundleLimits;
}

export type RereadReply =
  | { kind: "result"; result: ParseResult<ConntrackTable>; lines: number; longLines: number[] }
  | { kind: "missing"; reason: string };

/**
 * The worker's young generation. The 1 MiB chunks the worker's gunzip allocates (with malloc, in
 * this thread's own arena) must die young: with 4 MB, scavenges came so often that chunks still
 * being inflated or parsed were promoted, and were freed only by the full collection that 64 MB of
 * them trigger; in about 2 runs of 5 glibc then kept that whole 64 MB arena after the worker
 * ended (peak RSS 62 MB higher). With 16 MB, 20 runs of 20 kept 11–21 MB; 64 MB brought it back.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

const WORKER_URL = new URL("./reread-worker.js", import.meta.url);

export function rereadAvailable(): boolean {
  return WORKER_URL.protocol === "file:" && existsSync(fileURLToPath(WORKER_URL));
}

export class RereadTableParser {
  private readonly worker: Worker;
  private readonly reply: Promise<RereadReply>;
  lines = 0;
  longLines: number[] = [];

  constructor(path: string, origin: MemberOrigin) {
    this.worker = new Worker(WORKER_URL, { workerData: { path, origin }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    this.reply = new Promise<RereadReply>((resolve) => {
      this.worker.once("message", resolve);
      this.worker.once("error", (e) => resolve({ kind: "missing", reason: e.message }));
      this.worker.once("exit", (code) => resolve({ kind: "missing", reason: `the thread exited with code ${code}` }));
    });
  }

  /** The bytes pass by here: the worker reads the member from the file. */
  write(): void {}

  async end(): Promise<ParseResult<ConntrackTable>> {
    const reply = await this.reply;
    await this.worker.terminate();
    if (reply.kind === "missing") throw new Error(`the second thread could not read it (${reply.reason})`);
    this.lines = reply.lines;
    this.longLines = reply.longLines;
    return reply.result;
  }
}
