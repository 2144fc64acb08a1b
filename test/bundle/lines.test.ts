import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ByteLineSplitter, LineSplitter } from "../../src/bundle/lines.js";
import { create } from "../../src/parsers/conntrack-table.js";
import { MAX_LINE_CHARS, parseText } from "../../src/parsers/types.js";

/** Splits `data` into chunks of the given sizes (cycled), as an archive stream would. */
function chunks(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

function byteLines(parts: Buffer[]): { lines: string[]; numbers: number[]; long: number[] } {
  const lines: string[] = [];
  const numbers: number[] = [];
  const s = new ByteLineSplitter((buf, start, end, n) => {
    lines.push(buf.toString("utf8", start, end));
    numbers.push(n);
  });
  for (const p of parts) s.write(p);
  s.end();
  return { lines, numbers, long: s.longLines };
}

describe("LineSplitter", () => {
  it("decodes a 1 MiB chunk in pieces without breaking a multi-byte character at a piece boundary", () => {
    // "é" (2 bytes) straddles byte 65,536, "€" (3 bytes) byte 131,072.
    const text = `${"a".repeat(65_535)}é\n${"b".repeat(65_533)}€${"c".repeat(900_000)}\nlast`;
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.write(Buffer.from(text));
    s.end();
    expect(lines).toEqual(text.split("\n")); // asserts: the splitter must give the lines a plain split gives
  });
});

describe("ByteLineSplitter", () => {
  it("gives the same lines as LineSplitter whatever the chunk boundaries (multi-byte UTF-8, CRLF, no final newline)", () => {
    const text = "ipv4 2 tcp 6 1 src=1.2.3.4\r\nzone=é\n\nlast line without newline ü";
    const data = Buffer.from(text);
    const expected: string[] = [];
    const ls = new LineSplitter((l) => expected.push(l));
    ls.write(data);
    ls.end();
    for (const sizes of [[1], [2, 3], [7], [data.length]]) {
      const { lines, numbers } = byteLines(chunks(data, sizes));
      // The byte splitter leaves a trailing CR to the parser; LineSplitter strips it.
      expect(lines.map((l) => l.replace(/\r$/, ""))).toEqual(expected);
      expect(numbers).toEqual([1, 2, 3, 4]);
    }
  });

  it("cuts a line longer than MAX_LINE_CHARS and drops its tail, then goes on with the next line", () => {
    const long = Buffer.alloc(MAX_LINE_CHARS + 5000, 0x61);
    const data = Buffer.concat([Buffer.from("first\n"), long, Buffer.from("\nafter\n")]);
    const { lines, long: cut } = byteLines(chunks(data, [65536]));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toHaveLength(MAX_LINE_CHARS);
    expect(lines[2]).toBe("after");
    expect(cut).toEqual([2]);
  });
});

describe("conntrack table parser fed bytes in chunks", () => {
  it("aggregates the real 6.18 /proc dump exactly as when fed whole lines", () => {
    const data = readFileSync(new URL("../fixtures/conntrack/nf_conntrack.6.18.txt", import.meta.url));
    const whole = parseText(create, data.toString("utf8"), { path: "proc/net/nf_conntrack" }).value;
    const parser = create({ path: "proc/net/nf_conntrack" });
    const s = new ByteLineSplitter((buf, start, end, n) => parser.pushBytes?.(buf, start, end, n));
    for (const c of chunks(data, [13, 200, 1])) s.write(c);
    s.end();
    const streamed = parser.end().value;
    expect(streamed).toEqual(whole);
    expect(streamed.entries).toBe(25);
    expect(streamed.samples.icmp?.[0]?.provenance.line).toBe(22);
  });
});
