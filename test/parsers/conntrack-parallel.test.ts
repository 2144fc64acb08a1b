import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create } from "../../src/parsers/conntrack-table.js";
import type { StreamRouter } from "../../src/bundle/bundle.js";
import { DEFAULT_LIMITS } from "../../src/bundle/limits.js";
import { tarArchive } from "../helpers/tar-writer.js";

// The worker thread runs built JavaScript: this test loads the parallel parser from dist/ (the
// README's test command builds first), the single-thread reference from the sources.
const built = resolve("dist/src/parsers/conntrack/parallel-table.js");

describe("conntrack dump parsed on two threads", () => {
  it("gives the same aggregation, samples and line numbers as one parser (real 6.18 dump, repeated)", async () => {
    if (!existsSync(built)) throw new Error("dist/ is missing: run `npm run build` first");
    const { ParallelTableFeeder, parallelTableAvailable } = (await import(pathToFileURL(built).href)) as typeof import("../../src/parsers/conntrack/parallel-table.js");
    expect(parallelTableAvailable()).toBe(true);
    // 25 real entries plus the conntrack-tools summary line (its count will not match: a warning both ways).
    const real = readFileSync(new URL("../fixtures/conntrack/nf_conntrack.6.18.txt", import.meta.url), "utf8");
    const text = `${Array.from({ length: 3000 }, () => real.trimEnd()).join("\n")}\nconntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.\nnot an entry\n`;
    const data = Buffer.from(text);
    const path = "proc/net/nf_conntrack";
    const expected = parseText(create, text, { path });

    const feeder = new ParallelTableFeeder(path, { turnBytes: 64 * 1024 });
    // Odd chunk sizes, so that turns begin and end inside lines.
    for (let at = 0, i = 0; at < data.length; i++) {
      const n = [7001, 65536, 333, 120_000][i % 4] ?? 1;
      const wait = feeder.write(data.subarray(at, at + n));
      if (wait) await wait;
      at += n;
    }
    const result = await feeder.end();
    expect(result.value).toEqual(expected.value);
    expect(result.warnings).toEqual(expected.warnings);
    expect(feeder.lines).toBe(75_002);
    expect(result.value.entries).toBe(75_000);
    expect(result.value.lastLine).toBe(75_000);
    expect(result.value.toolMessages[0]?.provenance.line).toBe(75_001);
    expect(result.value.unparsable.firstLines).toEqual([75_002]);
  });
});

describe("conntrack dump parsed by a thread that reads the bundle file again", () => {
  const real = readFileSync(new URL("../fixtures/conntrack/nf_conntrack.6.18.txt", import.meta.url), "utf8").trimEnd();
  const second = `${Array.from({ length: 900 }, () => real).join("\n")}\nnot an entry\n`;
  const kernLog = "2026-11-22T07:15:44.439354+00:00 guest kernel: [  276.245095] nf_conntrack: nf_conntrack: table full, dropping packet\n";
  const dump = "b/files/proc/net/nf_conntrack";

  /** Opens the bundle with the built reader (the worker is built JavaScript), dumps over 2 KiB going to the worker. */
  async function open(path: string) {
    const builtBundle = resolve("dist/src/bundle/bundle.js");
    if (!existsSync(builtBundle)) throw new Error("dist/ is missing: run `npm run build` first");
    process.env.NFDIAG_PARALLEL_MIN_BYTES = "2048"; // read when parse.js is first imported
    const { openBundle } = (await import(pathToFileURL(builtBundle).href)) as typeof import("../../src/bundle/bundle.js");
    const { streamRouter, loadParsers } = (await import(pathToFileURL(resolve("dist/src/sources/parse.js")).href)) as typeof import("../../src/sources/parse.js");
    const limits = { ...DEFAULT_LIMITS, maxInMemoryFileBytes: 1024 };
    const router = streamRouter(await loadParsers(), {});
    const chunkedBy: string[] = [];
    const watching: StreamRouter = {
      route(p) {
        const r = router.route(p);
        if (!r?.startChunked) return r;
        const start = r.startChunked;
        return { ...r, startChunked: (...args) => {
          const parser = start(...args);
          chunkedBy.push(parser?.constructor.name ?? "none");
          return parser;
        } };
      },
    };
    const bundle = await openBundle({ kind: "path", path }, watching, limits, { settleLater: true });
    return { bundle, chunkedBy };
  }

  function expectParsedAsOne(file: { streamed?: { result: { value: unknown; warnings: unknown[] }; lines: number } } | undefined, text: string, name: string): void {
    const expected = parseText(create, text, { path: name });
    expect(file?.streamed?.result.value).toEqual(expected.value);
    expect(file?.streamed?.result.warnings).toEqual(expected.warnings);
    expect(file?.streamed?.lines).toBe(text.split("\n").length - 1); // the member's line count
  }

  it("parses a .tar.gz member as one parser would, while this thread reads on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfdiag-reread-"));
    const path = join(dir, "bundle.tar.gz");
    writeFileSync(path, gzipSync(tarArchive([
      { name: "b/commands/uname_-a", data: "Linux guest 6.18.0 #1 SMP x86_64 GNU/Linux\n" },
      { name: dump, data: second },
      { name: "b/files/var/log/kern.log", data: kernLog },
    ])));
    const { bundle, chunkedBy } = await open(path);
    expect(chunkedBy).toEqual(["RereadTableParser"]);
    expect(bundle.files.get("b/files/var/log/kern.log")?.text).toBe(kernLog);
    await bundle.settled;
    expect(bundle.unsettled.size).toBe(0);
    expectParsedAsOne(bundle.files.get(dump), second, dump);
  });

  it("says so when the second reading does not find the member (the file changed under it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfdiag-reread-"));
    const path = join(dir, "bundle.tar.gz");
    writeFileSync(path, gzipSync(tarArchive([{ name: "b/commands/uname_-a", data: "Linux guest 6.18.0\n" }])));
    const { RereadTableParser } = (await import(pathToFileURL(resolve("dist/src/parsers/conntrack/reread-table.js")).href)) as typeof import("../../src/parsers/conntrack/reread-table.js");
    const parser = new RereadTableParser(dump, { input: path, member: dump, occurrence: 0, limits: DEFAULT_LIMITS });
    await expect(parser.end()).rejects.toThrow(`${dump} was not found on the second reading`);
  });

  it("reads a .zip member again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfdiag-reread-"));
    mkdirSync(join(dir, "b/files/proc/net"), { recursive: true });
    mkdirSync(join(dir, "b/files/var/log"), { recursive: true });
    writeFileSync(join(dir, dump), second);
    writeFileSync(join(dir, "b/files/var/log/kern.log"), kernLog);
    execFileSync("zip", ["-q", "-r", "bundle.zip", "b"], { cwd: dir });
    const { bundle, chunkedBy } = await open(join(dir, "bundle.zip"));
    expect(chunkedBy).toEqual(["RereadTableParser"]);
    await bundle.settled;
    expect(bundle.unsettled.size).toBe(0);
    expectParsedAsOne(bundle.files.get(dump), second, dump);
  });
});
