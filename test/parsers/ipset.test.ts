import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { MAX_MEMBER_SAMPLES, create, schema } from "../../src/parsers/ipset.js";

const dir = new URL("../fixtures/rules/", import.meta.url);
const fx = (name: string) => readFileSync(new URL(name, dir), "utf8");
const P = "sos_commands/ipset/ipset_list";
const parse = (text: string) => {
  const r = parseText(create, text, { path: P });
  schema.parse(r.value);
  return r;
};

describe("ipset", () => {
  it("reads a real `ipset save`", () => {
    const { value, warnings } = parse(fx("lab-ipset-save.txt"));
    expect(warnings).toEqual([]);
    expect(value.format).toBe("save");
    expect(value.sets.map((s) => [s.name, s.type, s.entries])).toEqual([
      ["blocklist", "hash:ip", 30],
      ["nets", "hash:net", 2],
      ["ports", "bitmap:port", 2],
      ["v6hosts", "hash:ip", 1],
      ["allsets", "list:set", 2],
    ]);
    expect(value.sets[0]).toMatchObject({ family: "inet", hashsize: 1024, maxelem: 65536, timeout: 0, options: { comment: "", bucketsize: "12" } });
    expect(value.sets[0]!.members[0]).toBe('192.0.2.1 timeout 0 comment "entry 1"');
    expect(value.sets[0]!.provenance).toEqual({ path: P, line: 1, lastLine: 31 });
    expect(value.sets[2]!.range).toBe("0-1024");
    expect(value.sets[4]!.size).toBe(8);
    expect(value.totals).toEqual({ sets: 5, entries: 37 });
  });

  it("reads a real `ipset list` and `ipset list -t`", () => {
    const full = parse(fx("lab-ipset-list.txt"));
    expect(full.warnings).toEqual([]);
    expect(full.value.sets[0]).toMatchObject({ name: "blocklist", revision: 6, sizeInMemory: 3357, references: 2, entriesDeclared: 30, entries: 30 });
    expect(full.value.sets[3]).toMatchObject({ name: "v6hosts", family: "inet6", timeout: 600, members: ["2001:db8::1 timeout 299"] });
    const terse = parse(fx("lab-ipset-list-t.txt")).value;
    expect(terse.sets.map((s) => [s.name, s.entriesDeclared, s.entries, s.members.length])).toEqual([
      ["blocklist", 30, 0, 0],
      ["nets", 2, 0, 0],
      ["ports", 2, 0, 0],
      ["v6hosts", 1, 0, 0],
      ["allsets", 2, 0, 0],
    ]);
    expect(terse.totals.entries).toBe(37);
  });

  it("marks a full set and keeps at most 1,000 member samples", () => {
    const lines = ["create big hash:ip family inet hashsize 1024 maxelem 5000"];
    for (let i = 0; i < 5000; i++) lines.push(`add big 10.0.${i >> 8}.${i & 255}`);
    const s = parse(lines.join("\n")).value.sets[0]!;
    expect(s).toMatchObject({ entries: 5000, full: true, membersTruncated: true });
    expect(s.members.length).toBe(MAX_MEMBER_SAMPLES);
  });

  it("returns nothing for empty input", () => {
    const { value, warnings } = parse("");
    expect(value).toEqual({ format: "empty", sets: [], totals: { sets: 0, entries: 0 } });
    expect(warnings).toEqual([]);
  });

  it("warns when a listing stops before the declared members", () => {
    const text = fx("lab-ipset-list.txt").split("\n").slice(0, 14).join("\n") + "\n192.0.2.20 time";
    const { value, warnings } = parse(text);
    expect(value.sets[0]!.entries).toBe(7);
    expect(warnings).toEqual([{ path: P, line: 15, message: "set blocklist: 7 members listed but 30 declared (cut short?)" }]);
  });

  it("accepts CRLF line ends", () => {
    const { value, warnings } = parse(fx("lab-ipset-list.txt").replace(/\n/g, "\r\n"));
    expect(warnings).toEqual([]);
    expect(value.sets[1]!.members).toEqual(["203.0.113.0/25", "198.51.100.0/24"]);
  });

  it("skips binary garbage with a warning naming the line", () => {
    const lines = fx("lab-ipset-save.txt").split("\n"); // fixture lines, fed one by one below
    lines.splice(3, 0, "\u0000\u0000\u0000\u0001");
    const { value, warnings } = parse(lines.join("\n"));
    expect(warnings).toEqual([{ path: P, line: 4, message: "binary data skipped" }]);
    expect(value.sets[0]!.entries).toBe(30);
  });

  it("does not hang on a 5 MB line", () => {
    const t0 = performance.now();
    const { value } = parse(`create s hash:ip\nadd s 10.0.0.1 comment "${"y".repeat(5_000_000)}"\n`);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(value.sets[0]!.entries).toBe(1);
    expect(value.sets[0]!.members[0]!.length).toBe(4096);
  });
});
