import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create } from "../../src/parsers/conntrack-table.js";

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
