import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as meminfo from "../../src/parsers/meminfo.js";
import * as slabinfo from "../../src/parsers/slabinfo.js";

describe("meminfo", () => {
  it("reads the real /proc/meminfo with shortcuts", () => {
    const { value, warnings } = run(meminfo.create, fixture("meminfo.sos"), "proc/meminfo");
    expect(warnings).toEqual([]);
    expect(value).toMatchObject({ memTotalKb: 2012116, memAvailableKb: 1852784, slabKb: 22536, sUnreclaimKb: 9780, vmallocUsedKb: 8312 });
    expect(value.fields.HugePages_Total).toMatchObject({ value: 0, unit: "" });
    expect(value.fields["Active(anon)"]?.unit).toBe("kB");
    expect(value.fields.VmallocTotal?.value).toBe(13743895347199);
    expect(value.fields.MemTotal?.provenance).toEqual({ path: "proc/meminfo", line: 1 });
  });

  it("MemAvailable absent (kernel < 3.14) is null, truncated value warned", () => {
    const { value, warnings } = run(meminfo.create, "MemTotal:  1000 kB\nMemFree:    5");
    expect(value.memAvailableKb).toBeNull();
    expect(value.memFreeKb).toBe(5);
    const cut = run(meminfo.create, "MemTotal:  1000 kB\nMemFree:  ");
    expect(cut.value.memFreeKb).toBeNull();
    expect(cut.warnings[0]?.line).toBe(2);
    expect(warnings).toEqual([]);
  });
});

describe("slabinfo", () => {
  it("reads the real 6.1 slabinfo: single nf_conntrack cache", () => {
    const { value, warnings } = run(slabinfo.create, fixture("slabinfo.sos"), "proc/slabinfo");
    expect(warnings).toEqual([]);
    expect(value.version).toBe("2.1");
    expect(value.caches).toHaveLength(3);
    expect(value.conntrack).toEqual([
      expect.objectContaining({ name: "nf_conntrack", kind: "conntrack", activeObjs: 128, numObjs: 128, objSize: 256, numSlabs: 8, provenance: { path: "proc/slabinfo", line: 3 } }),
    ]);
    expect(value.conntrackTotals).toEqual({ activeObjs: 128, numObjs: 128, bytes: 32768 });
  });

  it("reads the real lab slabinfo (kernel 6.18)", () => {
    const { value } = run(slabinfo.create, fixture("slabinfo.lab"), "proc/slabinfo");
    expect(value.conntrack).toHaveLength(1);
    expect(value.conntrack[0]?.objSize).toBe(256);
  });

  it("recognises 3.10 per-netns caches and the expectation cache", () => {
    const { value } = run(slabinfo.create, fixture("slabinfo-3.10.derived"), "proc/slabinfo");
    expect(value.conntrack.map((c) => [c.kind, c.netnsId])).toEqual([
      ["conntrack-netns", "ffffffff819e07c0"],
      ["conntrack-netns", "ffff8800b5a30000"],
      ["conntrack-expect", null],
    ]);
    expect(value.conntrackTotals).toEqual({ activeObjs: 65648, numObjs: 65725, bytes: 65725 * 320 });
  });

  it("names the 4.6 cookie form", () => {
    expect(slabinfo.conntrackKind("nf_conntrack_1")).toEqual({ kind: "conntrack-cookie", netnsId: "1" });
    expect(slabinfo.conntrackKind("nf_conntrack_ftp")).toBeNull();
    expect(slabinfo.conntrackKind("ip_conntrack")).toEqual({ kind: "conntrack", netnsId: null }); // 2.6.18 cache name (kernel-facts §1.1)
  });

  it("warns on a row cut before its slabdata", () => {
    const text = `${fixture("slabinfo.sos").split("\n").slice(0, 3).join("\n")}\nTCP                  280    280   2304   14    8 : tunab`;
    const { value, warnings } = run(slabinfo.create, text);
    expect(value.caches).toHaveLength(2);
    expect(warnings[0]?.line).toBe(4);
  });
});
