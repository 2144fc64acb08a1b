import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, schema } from "../../src/parsers/conntrack-stats.js";

const dir = new URL("../fixtures/conntrack/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "sos_commands/conntrack/conntrack_-S") => {
  const result = parseText(create, text, { path });
  schema.parse(result.value);
  return result;
};

describe("conntrack -S", () => {
  it("reads 6.18 / conntrack-tools 1.4.7 per-CPU rows after a real table-full moment", () => {
    const { value, warnings } = parse(fixture("conntrack-S.6.18-table-full.txt"));
    expect(warnings).toEqual([]);
    expect(value.format).toBe("per-cpu");
    expect(value.cpus.map((r) => r.cpu)).toEqual([0, 1]);
    expect(value.cpus[1]?.counters.drop).toBe(31);
    expect(value.totals.drop).toBe(31);
    expect(value.totals.invalid).toBe(2);
    expect(value.counterNames).toEqual([
      "found", "invalid", "insert", "insert_failed", "drop", "early_drop", "error", "search_restart", "clash_resolve", "chaintoolong",
    ]);
    expect(value.cpus[1]?.provenance).toEqual({ path: "sos_commands/conntrack/conntrack_-S", line: 2 });
    expect(value.partial).toBe(false);
    expect(value.entries).toBeNull();
  });

  it("reads the 3.x–4.7 attribute set (searched, new, delete, delete_list) by name", () => {
    const { value } = parse(fixture("conntrack-S.4.4-derived.txt"));
    expect(value.counterNames).toContain("searched");
    expect(value.counterNames).toContain("delete_list");
    expect(value.counterNames).not.toContain("clash_resolve");
    expect(value.totals.searched).toBe(2334);
    expect(value.totals.insert_failed).toBe(11);
  });

  it("reads the 4.9–5.4 attribute set with ignore and no clash_resolve", () => {
    const { value } = parse(fixture("conntrack-S.5.4-derived.txt"));
    expect(value.cpus).toHaveLength(4);
    expect(value.totals.insert_failed).toBe(47);
    expect(value.totals.drop).toBe(0);
    expect(value.counterNames).toContain("ignore");
  });

  it("reads `conntrack -S expect` rows as kind expect", () => {
    const { value } = parse(fixture("conntrack-S-expect.6.18.txt"));
    expect(value.cpus.map((r) => r.kind)).toEqual(["expect", "expect"]);
    expect(value.counterNames).toEqual(["expect_new", "expect_create", "expect_delete"]);
    expect(value.totals.expect_create).toBe(0);
  });

  it("flags the conntrack-tools <= 1.4.4 /proc fallback as partial, CPU 0 only, entries not summed", () => {
    const { value, warnings } = parse(fixture("conntrack-S.1.4.4-fallback-derived.txt"));
    expect(value.format).toBe("proc-fallback");
    expect(value.partial).toBe(true);
    expect(value.partialReason).toMatch(/1\.4\.4.*CPU 0/);
    expect(value.cpus).toHaveLength(1);
    expect(value.cpus[0]?.provenance).toMatchObject({ line: 1, lastLine: 17 });
    expect(value.totals.drop).toBe(310);
    expect(value.totals.early_drop).toBe(77);
    expect(value.totals).not.toHaveProperty("entries");
    expect(value.entries?.value).toBe(16384);
    expect(warnings.some((w) => /CPU 0 only/.test(w.message))).toBe(true);
  });

  it("keeps unknown future counters by name", () => {
    const { value } = parse("cpu=0   \tfound=1 brand_new_counter=5 \ncpu=1   \tfound=2 brand_new_counter=6 \n");
    expect(value.totals.brand_new_counter).toBe(11);
  });

  it("returns an empty result for empty input", () => {
    const { value } = parse("");
    expect(value.format).toBe("empty");
    expect(value.cpus).toEqual([]);
    expect(value.totals).toEqual({});
  });

  it("keeps a truncated last line as an incomplete row and says the totals are partial", () => {
    const text = fixture("conntrack-S.6.18-table-full.txt").replace(/drop=31 early_drop=0 error=0 .*\n$/, "drop=31 early_dr");
    const { value, warnings } = parse(text);
    expect(value.cpus[1]?.complete).toBe(false);
    expect(value.totals.drop).toBe(31);
    expect(value.partial).toBe(true);
    expect(warnings.some((w) => w.line === 2 && /early_dr/.test(w.message))).toBe(true);
  });

  it("reads CRLF input", () => {
    const { value, warnings } = parse(fixture("conntrack-S.6.18-table-full.txt").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.totals.drop).toBe(31);
  });

  it("skips binary garbage with a warning naming the line", () => {
    const [a, b] = fixture("conntrack-S.6.18-table-full.txt").split("\n"); // the text split into lines; not a test call
    const { value, warnings } = parse(`${a}\n\u0000\u0001\ufffdELF\u0002\n${b}\n`);
    expect(value.cpus).toHaveLength(2);
    expect(warnings).toEqual([expect.objectContaining({ line: 2, message: expect.stringMatching(/binary/) })]);
  });

  it("ignores a second capture of the same CPU with a warning", () => {
    const text = fixture("conntrack-S.6.18-table-full.txt");
    const { value, warnings } = parse(text + text);
    expect(value.cpus).toHaveLength(2);
    expect(value.totals.drop).toBe(31);
    expect(warnings.filter((w) => /second conntrack row/.test(w.message))).toHaveLength(2);
  });

  it("survives a 5 MB single line", () => {
    const { value, warnings } = parse(`cpu=0 \t${"x".repeat(5 * 1024 * 1024)}\n` + fixture("conntrack-S.6.18.txt"));
    expect(value.cpus.map((r) => r.cpu)).toEqual([0, 1]);
    expect(value.cpus[0]?.provenance.line).toBe(2);
    expect(warnings[0]?.line).toBe(1);
    expect(warnings[0]?.message.length).toBeLessThan(300);
  });

  it("keeps conntrack-tools messages", () => {
    const { value } = parse("conntrack v1.4.7 (conntrack-tools): Operation failed: Protocol not supported\n");
    expect(value.toolMessages[0]?.text).toMatch(/Operation failed/);
    expect(value.format).toBe("empty");
  });
});
