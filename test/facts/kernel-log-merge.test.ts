import { beforeAll, describe, expect, it } from "vitest";
import type { Facts } from "../../src/facts/facts.js";
import { type KernelEvent, endsWithZone, mergeKernelLogs } from "../../src/facts/kernel-log-merge.js";
import type { KlogMessage } from "../../src/parsers/kernel-log.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

/**
 * samples/log-flood (real 6.1 guest): 1,500 LOG packets; rsyslog wrote all of them to both
 * kern.log and syslog, and the 128 KiB ring buffer kept only the last 682 for dmesg.
 */
let facts: Facts;
beforeAll(async () => {
  ({ facts } = await factsFromBundle("samples/log-flood/bundle.tar.gz"));
});

describe("merged kernel log", () => {
  it("counts each message once across dmesg, kern.log and syslog", () => {
    const packets = facts.kernelEvents("log-packet");
    expect(facts.sources("dmesg")[0]!.value.logPacketCount).toBe(682);
    expect(facts.sources("kernel-log").map((p) => p.value.logPacketCount)).toEqual([1500, 1500]);
    expect(packets).toHaveLength(1500);
  });

  it("keeps the dmesg copy where both exist, and the syslog copy for lines dmesg lost", () => {
    const packets = facts.kernelEvents("log-packet");
    expect(packets.filter((m) => m.sourceId === "dmesg")).toHaveLength(682);
    const fromKernLog = packets.filter((m) => m.sourceId === "kernel-log");
    expect(fromKernLog).toHaveLength(818);
    expect(new Set(fromKernLog.map((m) => m.provenance.path.split("/").pop()))).toEqual(new Set(["kern.log"])); // assertion: only kern.log, never syslog, fills dmesg's gap
    // In time order: the lines only kern.log kept come first (the ring buffer lost the oldest).
    expect(packets[0]!.sourceId).toBe("kernel-log");
    expect(packets.at(-1)!.sourceId).toBe("dmesg");
  });
});

/** A kept message as the kernel-log parser makes it (only what the merge reads matters). */
function msg(path: string, line: number, text: string, at: { uptime?: number; time?: string; cls?: KlogMessage["class"]; format?: KlogMessage["format"] } = {}): KlogMessage {
  return {
    provenance: { path, line },
    raw: text,
    text,
    format: at.format ?? (at.time ? "rfc3339" : "dmesg"),
    ...(at.uptime !== undefined ? { uptime: at.uptime } : {}),
    ...(at.time !== undefined ? { time: at.time } : {}),
    class: at.cls ?? "ct-table-full",
    fields: {},
    suppressed: 0,
  } as KlogMessage;
}
const where = (e: KernelEvent): string => `${e.provenance.path}:${e.provenance.line}`;

describe("mergeKernelLogs", () => {
  it("drops a later file's copy with the same uptime, once per earlier message and per file", () => {
    const merged = mergeKernelLogs(
      [
        { sourceId: "dmesg", messages: [msg("dmesg", 1, "table full", { uptime: 5 })] },
        { sourceId: "kernel-log", messages: [msg("kern.log", 1, "table full", { uptime: 5, time: "2026-11-22T07:00:05Z" }), msg("kern.log", 2, "table full", { uptime: 5, time: "2026-11-22T07:00:05Z" })] },
        { sourceId: "kernel-log", messages: [msg("syslog", 1, "table full", { uptime: 5, time: "2026-11-22T07:00:05Z" })] },
      ],
      Date.parse("2026-11-22T07:00:00Z"),
    );
    // dmesg's line absorbs one copy in kern.log and one in syslog; kern.log's second line is a repeat it kept.
    expect(merged.events.map(where)).toEqual(["dmesg:1", "kern.log:2"]);
  });

  it("matches messages without uptime by a wall time within 2 s, and only the same class", () => {
    const merged = mergeKernelLogs(
      [
        { sourceId: "kernel-log", messages: [msg("kern.log", 1, "x", { time: "2026-11-22T07:00:00Z" }), msg("kern.log", 2, "y", { time: "2026-11-22T07:00:00Z" })] },
        {
          sourceId: "journal",
          messages: [
            msg("journal", 1, "x", { time: "2026-11-22T07:00:02Z" }), // copy of kern.log:1
            msg("journal", 2, "x", { time: "2026-11-22T07:00:02Z" }), // its one copy is used up
            msg("journal", 3, "y", { time: "2026-11-22T07:00:03Z" }), // 3 s away
            msg("journal", 4, "y", { time: "2026-11-22T07:00:00Z", cls: "other" }), // another class
          ],
        },
      ],
      undefined,
    );
    expect(merged.events.map(where)).toEqual(["kern.log:1", "kern.log:2", "journal:4", "journal:2", "journal:3"]);
  });

  it("orders by time and hands on each message's wall time in ms and a text id", () => {
    const boot = Date.parse("2026-11-22T06:00:00Z");
    const merged = mergeKernelLogs(
      [
        { sourceId: "dmesg", messages: [msg("dmesg", 1, "late", { uptime: 7200 }), msg("dmesg", 2, "no clock", { uptime: 7300 })] },
        { sourceId: "kernel-log", messages: [msg("kern.log", 1, "early", { time: "2026-11-22T07:30:00.250+01:00" }), msg("kern.log", 2, "late", { time: "2026-11-23T12:00:00", format: "syslog" })] },
      ],
      boot,
    );
    expect(merged.events.map(where)).toEqual(["kern.log:1", "dmesg:1", "dmesg:2", "kern.log:2"]);
    expect(merged.events.map((e) => e.timeQuality)).toEqual(["exact", "derived", "derived", "inferred"]);
    expect(merged.events[1]!.wallTime).toBe("2026-11-22T08:00:00.000Z");
    expect([...merged.wallMs]).toEqual(merged.events.map((e) => Date.parse(e.wallTime!)));
    const ids = [...merged.textIds];
    expect(ids[1]).toBe(ids[3]); // both "late"
    expect(new Set(ids).size).toBe(3);
    expect(merged.textCount).toBe(3);
  });

  it("keeps time order by uptime within one source when there is no clock at all", () => {
    const merged = mergeKernelLogs([{ sourceId: "dmesg", messages: [msg("dmesg", 1, "b", { uptime: 9 }), msg("dmesg", 2, "a", { uptime: 3 })] }], undefined);
    expect(merged.events.map(where)).toEqual(["dmesg:2", "dmesg:1"]);
    expect(merged.events.every((e) => e.timeQuality === "unknown" && e.wallTime === undefined)).toBe(true);
    expect(Number.isNaN(merged.wallMs[0]!)).toBe(true);
  });
});

describe("endsWithZone", () => {
  it("is true for Z, ±hh:mm and ±hhmm endings only", () => {
    for (const t of ["2026-11-22T07:00:00Z", "2026-11-22T07:00:00+01:00", "2026-11-22T07:00:00.5-0500"]) expect(endsWithZone(t)).toBe(true);
    for (const t of ["2026-11-22T07:00:00", "2026-11-22T07:00:00+01", "Nov 22 07:00:00", "2026-11-22T07:00:00+1:00", "Z0"]) expect(endsWithZone(t)).toBe(false);
  });
});
