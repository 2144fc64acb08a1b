import { beforeAll, describe, expect, it } from "vitest";
import type { Facts } from "../../src/facts/facts.js";
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
