import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, schema } from "../../src/parsers/conntrack-count.js";

const dir = new URL("../fixtures/conntrack/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "proc/sys/net/netfilter/nf_conntrack_count") => {
  const result = parseText(create, text, { path });
  schema.parse(result.value);
  return result;
};

describe("single-integer conntrack sources", () => {
  it.each([
    ["conntrack-C.6.18.txt", 25],
    ["nf_conntrack_count.6.18-table-full.txt", 214],
    ["nf_conntrack_max.6.18.txt", 64],
    ["nf_conntrack_buckets.6.18.txt", 262144],
    ["hashsize.sos-6.1.txt", 16384],
  ])("reads %s", (name, expected) => {
    const { value, warnings } = parse(fixture(name), name);
    expect(warnings).toEqual([]);
    expect(value).toEqual({ value: expected, provenance: { path: name, line: 1 } });
  });

  it("ignores the conntrack-tools summary line", () => {
    const { value, warnings } = parse("conntrack v1.4.7 (conntrack-tools): 42 flow entries have been shown.\n42\n");
    expect(warnings).toEqual([]);
    expect(value.value).toBe(42);
    expect(value.provenance?.line).toBe(2);
  });

  it("returns null with a warning for empty input", () => {
    const { value, warnings } = parse("");
    expect(value).toEqual({ value: null, provenance: null });
    expect(warnings).toHaveLength(1);
  });

  it("reads a value without a final newline and with CRLF", () => {
    expect(parse("128").value.value).toBe(128);
    expect(parse("128\r\n").value.value).toBe(128);
  });

  it("keeps the first integer and warns on a second one", () => {
    const { value, warnings } = parse("7\n8\n");
    expect(value.value).toBe(7);
    expect(warnings).toEqual([expect.objectContaining({ line: 2 })]);
  });

  it("warns on anything else, naming binary data and the line", () => {
    const { value, warnings } = parse("\u0000\u0007\ufffd\n64\nnet.netfilter.nf_conntrack_count = 64\n");
    expect(value.value).toBe(64);
    expect(warnings[0]).toMatchObject({ line: 1, message: expect.stringMatching(/binary/) });
    expect(warnings[1]).toMatchObject({ line: 3 });
  });

  it("rejects a 5 MB line of digits instead of returning an imprecise number", () => {
    const { value, warnings } = parse(`${"9".repeat(5 * 1024 * 1024)}\n`);
    expect(value.value).toBeNull();
    expect(warnings[0]?.message.length).toBeLessThan(300);
  });
});
