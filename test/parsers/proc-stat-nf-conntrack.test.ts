import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, detectEra, schema } from "../../src/parsers/proc-stat-nf-conntrack.js";

const dir = new URL("../fixtures/conntrack/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "proc/242/net/stat/nf_conntrack") => {
  const result = parseText(create, text, { path });
  schema.parse(result.value);
  return result;
};

describe("/proc/net/stat/nf_conntrack", () => {
  it("reads the real sosreport file (kernel 6.1, table full): drops summed, entries taken once", () => {
    const { value, warnings } = parse(fixture("proc-stat-nf_conntrack.sos-6.1.txt"));
    expect(warnings).toEqual([]);
    expect(value.era).toBe("5.15+");
    expect(value.rows).toHaveLength(2);
    expect(value.rows[0]?.counters.drop).toBe(0x76);
    expect(value.totals.drop).toBe(0x76 + 0x36);
    expect(value.entries).toEqual({ value: 128, provenance: { path: "proc/242/net/stat/nf_conntrack", line: 2 } });
    expect(value.totals).not.toHaveProperty("entries");
    expect(value.header).toEqual({ path: "proc/242/net/stat/nf_conntrack", line: 1 });
  });

  it("reads the real 6.18 lab capture after the table-full moment", () => {
    const { value } = parse(fixture("proc-stat-nf_conntrack.6.18-table-full.txt"));
    expect(value.era).toBe("5.15+");
    expect(value.entries?.value).toBe(214);
    expect(value.totals.drop).toBe(31);
    expect(value.totals.invalid).toBe(2);
    expect(value.rows[1]?.provenance.line).toBe(3);
  });

  it.each([
    ["proc-stat-nf_conntrack.2.6-derived.txt", "2.6.x", 16, "delete_list"],
    ["proc-stat-nf_conntrack.4.19-derived.txt", "3.x-5.9", 17, "search_restart"],
    ["proc-stat-nf_conntrack.5.10-derived.txt", "5.10-5.14", 17, "clashres"],
    ["proc-stat-nf_conntrack.6.18.txt", "5.15+", 17, "chainlength"],
  ])("detects the era of %s", (name, era, columns, column) => {
    const { value, warnings } = parse(fixture(name));
    expect(warnings).toEqual([]);
    expect(value.era).toBe(era);
    expect(value.columns).toHaveLength(columns);
    expect(value.columns).toContain(column);
    expect(value.rows.every((r) => r.complete)).toBe(true);
  });

  it("sums per-CPU counters of the 3.x–5.9 era without summing entries (4 CPUs)", () => {
    const { value } = parse(fixture("proc-stat-nf_conntrack.4.19-derived.txt"));
    expect(value.entries?.value).toBe(262144);
    expect(value.totals.insert_failed).toBe(17 + 23);
    expect(value.totals.search_restart).toBe(6);
    expect(value.rows.map((r) => r.cpuIndex)).toEqual([0, 1, 2, 3]);
  });

  it("flags rows that disagree on entries", () => {
    const text = fixture("proc-stat-nf_conntrack.sos-6.1.txt").replace(/\n00000080/, "\n00000081").replace(/^(.*\n.*\n)00000080/, "$100000082");
    const { value, warnings } = parse(text);
    expect(value.entries?.value).toBe(0x81);
    expect(value.entriesDisagree).toBe(true);
    expect(warnings.some((w) => /disagree/.test(w.message))).toBe(true);
  });

  it("returns an empty result for empty input", () => {
    const { value } = parse("");
    expect(value).toMatchObject({ era: "unknown", columns: [], header: null, rows: [], entries: null });
  });

  it("keeps the readable cells of a truncated last row", () => {
    const text = fixture("proc-stat-nf_conntrack.sos-6.1.txt").replace(/00000036 00000000 00000000 .*\n$/, "0000003");
    const { value, warnings } = parse(text);
    expect(value.rows[1]?.complete).toBe(false);
    expect(value.rows[1]?.counters).not.toHaveProperty("drop");
    expect(value.rows[1]?.counters.insert_failed).toBe(0);
    expect(value.totals.drop).toBe(0x76);
    expect(warnings).toEqual([expect.objectContaining({ line: 3 })]);
  });

  it("reads CRLF input", () => {
    const { value, warnings } = parse(fixture("proc-stat-nf_conntrack.sos-6.1.txt").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.totals.drop).toBe(172);
  });

  it("skips binary garbage with a warning naming the line", () => {
    const [h, a, b] = fixture("proc-stat-nf_conntrack.sos-6.1.txt").split("\n"); // the text split into lines; not a test call
    const { value, warnings } = parse(`${h}\n${a}\n\u0000\u0000\u00ff\ufffd\u0003\n${b}\n`);
    expect(value.rows).toHaveLength(2);
    expect(value.rows[1]?.provenance.line).toBe(4);
    expect(warnings).toEqual([expect.objectContaining({ line: 3, message: expect.stringMatching(/binary/) })]);
  });

  it("survives a 5 MB single line", () => {
    const { value, warnings } = parse(`${"0".repeat(5 * 1024 * 1024)}\n` + fixture("proc-stat-nf_conntrack.sos-6.1.txt"));
    expect(value.rows).toHaveLength(2);
    expect(warnings[0]?.line).toBe(1);
  });

  it("keeps counters of an unknown header layout by name", () => {
    const { value, warnings } = parse("entries  found insert_failed drop brand_new\n00000002  00000001 00000000 00000003 00000004\n");
    expect(value.era).toBe("unknown");
    expect(value.totals.brand_new).toBe(4);
    expect(warnings.some((w) => /unknown header/.test(w.message))).toBe(true);
  });

  it("detectEra needs the full set of tell-tale columns", () => {
    expect(detectEra([])).toBe("unknown");
    expect(detectEra(["found", "insert_failed"])).toBe("unknown");
  });
});
