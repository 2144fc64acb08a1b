import { describe, expect, it } from "vitest";
import { renderTimelineSvg } from "../../src/render/timeline-svg.js";
import type { TimelineEvent } from "../../src/report/schema.js";
import { PAYLOADS, realistic } from "./helpers.js";

const ev = (e: Partial<TimelineEvent>): TimelineEvent => ({
  timeQuality: "exact", class: "c", text: "t", source: "s", path: "p", count: 1, suppressed: 0, marks: [], findingIds: [], ...e,
});

describe("renderTimelineSvg", () => {
  it("bins the realistic timeline per minute with marks, bursts and legend", () => {
    const r = realistic();
    const t = renderTimelineSvg(r.timeline.events);
    expect(t.binLabel).toBe("minute");
    expect(t.axisLabel).toBe("wall clock (UTC+01:00)");
    expect(t.plotted).toBe(r.timeline.events.length);
    expect(t.unplaced).toBe(0);
    expect(t.classes[0]).toMatchObject({ name: "conntrack-drop", cls: "tl-sym" });
    expect(t.classes.find((c) => c.name === "module-load")?.cls).toBe("tl-trg");
    const drops = r.timeline.events.filter((e) => e.class === "conntrack-drop").reduce((a, e) => a + e.count, 0);
    expect(t.classes[0]!.total).toBe(drops);
    expect(t.svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*viewBox="0 0 960 \d+"/);
    expect(t.svg).toContain(">likely trigger 14:38:35<");
    expect(t.svg).toContain(">first symptom 14:41:02<");
    expect(t.svg).toContain(">collected 15:20:12<");
    expect(t.svg).toContain('class="tl-bursts"');
    expect(t.svg).toMatch(/>14:00<.*>15:20</);
    expect(t.svg.length).toBeLessThan(80_000);
  });

  it("falls back to uptime, and says how many events it could not place", () => {
    const t = renderTimelineSvg([ev({ uptime: 10 }), ev({ uptime: 4000, count: 5, lastUptime: 4100 }), ev({})]);
    expect(t.axisLabel).toBe("seconds since boot");
    expect(t.plotted).toBe(2);
    expect(t.unplaced).toBe(1);
    expect(renderTimelineSvg([ev({})]).svg).toBe("");
  });

  it("chooses coarser bins for long spans", () => {
    const t = renderTimelineSvg([ev({ time: "2025-11-01T00:00:00Z" }), ev({ time: "2025-11-20T00:00:00Z" })]);
    expect(t.binLabel).toBe("3 hours");
  });

  it("escapes every bundle string it embeds", () => {
    const svg = renderTimelineSvg([
      ev({ time: "2025-11-20T10:00:00Z", class: PAYLOADS.svg, text: PAYLOADS.script, marks: ["first-symptom"] }),
      ev({ time: "2025-11-20T10:05:00Z", class: PAYLOADS.img, text: PAYLOADS.style, count: 40, lastTime: "2025-11-20T10:09:00Z" }),
    ]).svg;
    expect(svg).not.toMatch(/<script|<img|<svg onload|<\/style>|onerror=|onload=/);
    expect(svg.match(/<svg/g)?.length).toBe(1);
    expect(svg).toContain("&lt;svg onload&#x3D;window.__xss&#x3D;4&gt;");
  });
});

describe("short problems", () => {
  it("a burst that lasted seconds gets second-level bins and hh:mm:ss ticks, not one bar per minute", async () => {
    const { renderTimelineSvg } = await import("../../src/render/timeline-svg.js");
    const base = Date.parse("2026-11-22T07:23:34Z");
    const ev = (s: number, cls: string) => ({
      time: new Date(base + s * 1000).toISOString(),
      timeQuality: "derived" as const,
      class: cls,
      text: "nf_conntrack: nf_conntrack: table full, dropping packet",
      source: "dmesg",
      path: "commands/dmesg",
      count: 1,
      suppressed: 0,
      marks: [],
      findingIds: [],
    });
    const t = renderTimelineSvg([ev(0, "ct-table-full"), ev(3, "ct-table-full"), ev(16, "collection")]);
    expect(t.binLabel).toBe("second");
    expect(t.svg).toMatch(/>07:23:3\d</);
  });
});
