import { describe, expect, it } from "vitest";
import { contexts, timeRange } from "../../analyzers/iptables-restore-failed.js";
import type { KernelEvent } from "../../src/facts/facts.js";

/** A kernel event with only what `contexts` reads. */
function ev(path: string, line: number, program: string | undefined, cls = "other"): KernelEvent {
  return { class: cls, text: `${program ?? "kernel"} at ${line}`, provenance: { path, line }, ...(program ? { program } : {}), sourceId: "kernel-log", timeQuality: "unknown" } as unknown as KernelEvent;
}

describe("contexts of restore failures", () => {
  it("keeps the same program's lines within three lines, in message order, without the event itself", () => {
    const fail = ev("syslog", 10, "iptables-restore");
    const before = ev("syslog", 7, "iptables-restore");
    const tooFar = ev("syslog", 6, "iptables-restore");
    const otherProgram = ev("syslog", 9, "kernel");
    const otherFile = ev("kern.log", 11, "iptables-restore");
    const packet = ev("syslog", 11, "iptables-restore", "log-packet");
    const after = ev("syslog", 13, "iptables-restore");
    const sameLine = ev("syslog", 10, "iptables-restore");
    const messages = [after, tooFar, before, fail, otherProgram, otherFile, packet, sameLine];
    const got = contexts(messages, [fail]).get(fail);
    expect(got).toEqual([before, sameLine, after]);
  });

  it("answers each event, also near the first line and with overlapping windows", () => {
    const a = ev("f", 1, "p");
    const b = ev("f", 3, "p");
    const c = ev("f", 2, undefined);
    const out = contexts([a, b, c], [a, b]);
    expect(out.get(a)).toEqual([b]);
    expect(out.get(b)).toEqual([a]);
    expect(contexts([], [a]).get(a)).toEqual([]);
  });
});

describe("timeRange", () => {
  it("gives the first and last wall time as a sort would, skipping events without one", () => {
    expect(timeRange([{ wallTime: "2026-01-02T00:00:00Z" }, {}, { wallTime: "2026-01-01T00:00:00Z" }, { wallTime: "2026-01-03T00:00:00Z" }, { wallTime: "" }])).toEqual({ first: "2026-01-01T00:00:00Z", last: "2026-01-03T00:00:00Z" });
    expect(timeRange([{ wallTime: "2026-01-01T00:00:00Z" }])).toEqual({ first: "2026-01-01T00:00:00Z", last: "2026-01-01T00:00:00Z" });
    expect(timeRange([{}, { wallTime: undefined }])).toBeUndefined();
  });
});
