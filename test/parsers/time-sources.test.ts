import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as uptime from "../../src/parsers/uptime.js";
import * as date from "../../src/parsers/date.js";
import * as procStat from "../../src/parsers/proc-stat.js";

describe("uptime", () => {
  it("reads real /proc/uptime", () => {
    const { value } = run(uptime.create, fixture("proc-uptime.lab"), "proc/uptime");
    expect(value.form).toBe("proc");
    expect(value.uptimeSeconds).toBeGreaterThan(0);
    expect(value.idleSeconds).toBeGreaterThan(0);
  });

  it("reads the real uptime command output", () => {
    const { value, warnings } = run(uptime.create, fixture("uptime.lab"), "sos_commands/host/uptime");
    expect(warnings).toEqual([]);
    expect(value.form).toBe("command");
    expect(value.clock).toMatch(/^\d{2}:\d{2}:\d{2}$/);
    expect(value.uptimeSeconds).toBeGreaterThanOrEqual(60);
    expect(value.users).toBe(0);
    expect(value.loadAverage).toHaveLength(3);
  });

  it.each([
    [" 10:00:00 up 3 days,  2:01,  1 user,  load average: 0.00, 0.01, 0.05", 3 * 86400 + 2 * 3600 + 60],
    ["10:00:00 up 1 day, 5 min,  2 users,  load average: 1.00, 0.50, 0.25", 86400 + 300],
    ["10:00:00 up  2:01,  0 users,  load average: 0.00, 0.00, 0.00", 7260],
    ["up 1 week, 2 days, 3 hours, 1 minute", 604800 + 2 * 86400 + 3 * 3600 + 60],
  ])("%s", (line, seconds) => {
    expect(uptime.parseUptimeLine(line.trim())?.uptimeSeconds).toBe(seconds);
  });

  it("reads uptime -s and warns on a cut line", () => {
    expect(uptime.parseUptimeLine("2026-11-22 07:11:06")).toMatchObject({ form: "since", since: "2026-11-22 07:11:06" });
    const { value, warnings } = run(uptime.create, " 07:14:54 up 3 min,  0 user,  load av");
    expect(value.uptimeSeconds).toBe(180);
    expect(value.loadAverage).toBeNull();
    expect(warnings[0]?.line).toBe(1);
  });
});

describe("date", () => {
  it("reads real date -u and date +%s", () => {
    const { value, warnings } = run(date.create, fixture("date.lab"), "sos_commands/date/date");
    expect(warnings).toEqual([]);
    expect(value.readings.map((r) => r.kind)).toEqual(["date", "epoch"]);
    const [a, b] = value.readings;
    expect(a?.instant).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // both captured in the same second or the next
    expect(Math.abs(Date.parse(a?.instant ?? "") - Date.parse(b?.instant ?? ""))).toBeLessThanOrEqual(1000);
    expect(value.instant).toBe(a?.instant);
  });

  it.each([
    ["Sun Nov 22 06:42:24 UTC 2026", "2026-11-22T06:42:24Z"],
    ["Sun Nov 22 01:42:24 EST 2026", "2026-11-22T06:42:24Z"],
    ["Sun Nov 22 07:42:24 CET 2026", "2026-11-22T06:42:24Z"],
    ["Sun 22 Nov 2026 06:42:24 AM UTC", "2026-11-22T06:42:24Z"],
    ["Sun 22 Nov 2026 06:42:24 PM UTC", "2026-11-22T18:42:24Z"],
    ["Sun 22 Nov 06:42:24 UTC 2026", "2026-11-22T06:42:24Z"],
    ["Sun Nov 22 09:42:24 +03 2026", "2026-11-22T06:42:24Z"],
    ["2026-11-22 06:42:23.511047+00:00", "2026-11-22T06:42:23.511Z"],
    ["2026-11-22T08:42:24+02:00", "2026-11-22T06:42:24Z"],
    ["Sun 22 Nov 2026 06:42:24 AM UTC  -0.703125 seconds", "2026-11-22T06:42:24Z"],
    ["Universal time: Sun 2026-11-22 06:42:24 UTC", "2026-11-22T06:42:24Z"],
    ["1795329596", "2026-11-22T06:39:56Z"],
  ])("%s", (line, iso) => {
    expect(date.parseDateLine(line)?.instant).toBe(iso);
  });

  it("keeps local time only for an ambiguous zone, with a warning", () => {
    const { value, warnings } = run(date.create, "Sun Nov 22 14:42:24 CST 2026\n");
    expect(value.readings[0]).toMatchObject({ instant: null, localTime: "2026-11-22T14:42:24", zone: "CST" });
    expect(value.instant).toBeNull();
    expect(warnings[0]?.message).toContain("ambiguous");
  });

  it("a cut line is not a date", () => {
    const { value, warnings } = run(date.create, "Sun Nov 22 06:42:24 UTC 2026\nSun Nov 22 06:4");
    expect(value.readings).toHaveLength(1);
    expect(warnings[0]?.line).toBe(2);
  });
});

describe("/proc/stat", () => {
  it("reads btime and CPUs from the real file", () => {
    const { value } = run(procStat.create, fixture("proc-stat.sos"), "proc/stat");
    expect(value).toEqual({ btime: 1795329596, bootTime: "2026-11-22T06:39:56.000Z", cpuCount: 2, provenance: { path: "proc/stat", line: 4 } });
  });

  it("no btime is null with a warning", () => {
    const { value, warnings } = run(procStat.create, "cpu  1 2 3\nbtime 17953");
    expect(value.btime).toBe(17953);
    const cut = run(procStat.create, "cpu  1 2 3\nbtim");
    expect(cut.value.btime).toBeNull();
    expect(cut.warnings.some((w) => w.message === "no btime line")).toBe(true);
    expect(warnings).toEqual([]);
  });
});
