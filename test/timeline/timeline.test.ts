import { describe, expect, it } from "vitest";
import { analyze } from "../../src/pipeline/analyze.js";

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
