import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/bundle/limits.js";
import { YEARLESS_WARNING, type KernelLogFacts } from "../../src/parsers/kernel-log.js";
import { loadBundle } from "../../src/pipeline/load.js";
import { tarArchive } from "../helpers/tar-writer.js";

// Real rsyslog lines in the traditional format (no year), as RHEL's /var/log/messages has them.
const traditional = readFileSync(new URL("../fixtures/kernel-log/kern-rsyslog-traditional.txt", import.meta.url), "utf8");
// Collected in January 2027: the November lines are from the year before.
const date = "Fri Jan  8 10:00:00 UTC 2027\n";

function bundle(withDate: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "nfdiag-year-"));
  const path = join(dir, "sosreport.tar.gz");
  const members = [
    { name: "sosreport-h/sos_commands/kernel/uname_-a", data: "Linux h 6.1.0 #1 SMP x86_64 GNU/Linux\n" },
    { name: "sosreport-h/var/log/messages", data: traditional },
    // sos writes the date plugin after the logs: the collection time is unknown while they stream.
    ...(withDate ? [{ name: "sosreport-h/sos_commands/date/date", data: date }] : []),
  ];
  writeFileSync(path, gzipSync(tarArchive(members)));
  return path;
}

async function kernelLog(path: string, streamed: boolean) {
  const limits = streamed ? { ...DEFAULT_LIMITS, maxInMemoryFileBytes: 256 } : DEFAULT_LIMITS;
  const loaded = await loadBundle({ kind: "path", path }, limits);
  expect(loaded.bundle.files.get("sosreport-h/var/log/messages")?.streamed !== undefined).toBe(streamed);
  const parsed = loaded.parsed.get("kernel-log")?.[0];
  if (!parsed) throw new Error("no kernel-log source");
  return { value: parsed.value as KernelLogFacts, warnings: parsed.warnings };
}

describe("syslog lines without a year in a log parsed while the archive streams", () => {
  it("get the year inferred from a collection time read after them, as when parsed at the end", async () => {
    const path = bundle(true);
    const streamed = await kernelLog(path, true);
    const inMemory = await kernelLog(path, false);
    expect(streamed.value).toEqual(inMemory.value);
    expect(streamed.warnings).toEqual(inMemory.warnings);
    expect(streamed.value.firstTime).toBe("2026-11-22T07:15:32");
    expect(streamed.value.messages[0]?.time).toBe("2026-11-22T07:15:32");
    expect(streamed.value.classes["ct-table-full"]?.last.time).toMatch(/^2026-11-22T/);
  });

  it("lose their times with the same warning when no collection time is found", async () => {
    const path = bundle(false);
    const streamed = await kernelLog(path, true);
    const inMemory = await kernelLog(path, false);
    expect(streamed.value).toEqual(inMemory.value);
    expect(streamed.value.firstTime).toBeUndefined();
    expect(streamed.value.messages.every((m) => m.time === undefined)).toBe(true);
    expect(streamed.warnings.filter((w) => w.message === YEARLESS_WARNING)).toEqual(inMemory.warnings.filter((w) => w.message === YEARLESS_WARNING));
    expect(streamed.warnings.some((w) => w.message === YEARLESS_WARNING)).toBe(true);
  });
});
