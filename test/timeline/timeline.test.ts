import { describe, expect, it } from "vitest";
import { Facts } from "../../src/facts/facts.js";
import type { KernelLogFacts, KlogMessage } from "../../src/parsers/kernel-log.js";
import { analyze } from "../../src/pipeline/analyze.js";
import type { Finding } from "../../src/report/schema.js";
import type { ParsedSource } from "../../src/sources/parse.js";
import { buildTimeline } from "../../src/timeline/build.js";

type ProcStat = { btime: number; provenance: { path: string; line: number } };

describe("timeline", () => {
  it("seed 001 on a ≤ 4.9 kernel (derived bundle): conntrack loaded, then the first drop, in that order; the cause ranks first", async () => {
    const report = await analyze({ kind: "path", path: "test/fixtures/bundles/mod-soundcloud-4.4" });
    expect(report.findings.map((f) => f.id).slice(0, 2)).toEqual(["conntrack-loaded-unused", "conntrack-table-full"]);
    expect(report.findings[0]!.explains).toContain("conntrack-table-full");
    // Its minimal manifest has no clock: the collection time comes from `date -u`, not epoch 0.
    expect(report.bundle.collectedAt).toMatch(/^2012-08-13T/);
    const events = report.timeline.events;
    const trigger = events.findIndex((e) => e.marks.includes("likely-trigger"));
    const first = events.findIndex((e) => e.marks.includes("first-symptom") && e.class === "ct-table-full");
    expect(trigger).toBeGreaterThanOrEqual(0);
    expect(first).toBeGreaterThan(trigger);
    expect(events[trigger]).toMatchObject({ class: "ct-banner", source: "dmesg" });
    expect(events[trigger]!.text).toMatch(/^nf_conntrack version 0\.5\.0 \(16384 buckets, 65536 max\)/);
    expect(events[first]!.text).toBe("nf_conntrack: table full, dropping packet");
    expect(events[first]!.findingIds).toEqual(["conntrack-table-full"]);
  });

  it("collapses a burst of repeats into one event with its count and the suppressed copies (real sosreport)", async () => {
    const report = await analyze({ kind: "path", path: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz" });
    const bursts = report.timeline.events.filter((e) => e.class === "ct-table-full");
    const total = bursts.reduce((n, e) => n + e.count + e.suppressed, 0);
    expect(total).toBe(170); // 90 lines + 80 hidden by net_ratelimit
    expect(bursts.length).toBeLessThan(10);
    expect(bursts[0]!.marks).toContain("first-symptom");
    // dmesg times are derived from btime + uptime, and the report says so.
    expect(bursts[0]!.timeQuality).toBe("derived");
    expect(report.timeline.bootTimeSource).toBe("btime in /proc/stat");
    expect(report.timeline.caveats.join(" ")).toMatch(/drift after a suspend\/resume/);
    const collection = report.timeline.events.find((e) => e.class === "collection");
    expect(collection?.marks).toEqual(["collection"]);
    expect(Date.parse(collection!.time!)).toBeGreaterThan(Date.parse(bursts.at(-1)!.time!));
  });
});

/** Facts holding one dmesg of the given messages, booted at 06:00 and collected at 09:00 UTC. */
function dmesgFacts(messages: { text: string; cls: KlogMessage["class"]; uptime: number; suppressed?: number }[]): Facts {
  const kept = messages.map((m, i) => ({ provenance: { path: "dmesg", line: i + 1 }, raw: m.text, text: m.text, format: "dmesg", uptime: m.uptime, class: m.cls, fields: {}, suppressed: m.suppressed ?? 0 }));
  const value = { messages: kept, classes: {} } as unknown as KernelLogFacts;
  const stat = { btime: Date.parse("2026-11-22T06:00:00Z") / 1000, provenance: { path: "proc/stat", line: 1 } } as unknown as ProcStat;
  return new Facts({
    parsed: new Map<string, ParsedSource[]>([
      ["dmesg", [{ sourceId: "dmesg", path: "dmesg", value, warnings: [] }]],
      ["proc-stat", [{ sourceId: "proc-stat", path: "proc/stat", value: stat, warnings: [] }]],
    ]),
    resolved: { layout: "nfdiag", root: "", sources: new Map(), lookedFor: new Map() },
    statuses: [],
    warnings: [],
    collectedAt: new Date("2026-11-22T09:00:00Z"),
  });
}

const word = (n: number): string => n.toString(26).replace(/\d/g, (d) => "qrstuvwxyz"[Number(d)]!);

describe("timeline of a big log", () => {
  it("collapses repeats, keeps the marked events and the biggest bursts, in time order", () => {
    const messages: Parameters<typeof dmesgFacts>[0] = [{ text: "nf_conntrack version 0.5.0 (65536 buckets, 262144 max)", cls: "ct-banner", uptime: 1 }];
    for (let i = 0; i < 2500; i++) messages.push({ text: `xt_${word(i)}: error`, cls: "xt-error", uptime: 2 + i });
    // A burst of five: its count, the hidden copies and the last occurrence.
    for (let k = 0; k < 5; k++) messages.push({ text: `nf_conntrack: table full in netns ${4026531000 + k}, dropping packet`, cls: "ct-table-full", uptime: 3000 + k, suppressed: k === 4 ? 10 : 0 });
    messages.push({ text: "xt_tail: error", cls: "xt-error", uptime: 3100 });
    const timeline = buildTimeline(dmesgFacts(messages), [{ id: "conntrack-table-full" } as Finding]);

    expect(timeline.omitted).toBe(1 + 2500 + 1 + 1 + 1 - 2000); // banner, errors, burst, tail, collection
    const events = timeline.events;
    expect(events).toHaveLength(2000);
    expect(events.map((e) => e.uptime ?? Number.POSITIVE_INFINITY)).toEqual([...events.map((e) => e.uptime ?? Number.POSITIVE_INFINITY)].sort((a, b) => a - b));
    expect(events[0]).toMatchObject({ class: "ct-banner", marks: ["likely-trigger"], time: "2026-11-22T06:00:01.000Z", timeQuality: "derived" });
    const burst = events.find((e) => e.class === "ct-table-full");
    expect(burst).toMatchObject({ count: 5, suppressed: 10, uptime: 3000, lastUptime: 3004, lastTime: "2026-11-22T06:50:04.000Z", marks: ["first-symptom"], findingIds: ["conntrack-table-full"] });
    expect(burst!.text).toBe("nf_conntrack: table full in netns 4026531000, dropping packet");
    expect(events.at(-1)).toMatchObject({ class: "collection", marks: ["collection"] });
    // All one-line events weigh the same: the earliest ones fill the places left.
    const errors = events.filter((e) => e.class === "xt-error");
    expect(errors).toHaveLength(2000 - 3);
    expect(errors.at(-1)!.text).toBe(`xt_${word(2000 - 4)}: error`);
    expect(timeline.caveats.join(" ")).toMatch(/boot time \(btime in \/proc\/stat\) plus uptime/);
  });
});
