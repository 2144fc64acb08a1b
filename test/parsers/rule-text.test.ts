/** The token helpers of the rule parsers: the token buffer reads lines as `tokenize` does. */
import { describe, expect, it } from "vitest";
import { Interner, TokenBuffer, tokenize } from "../../src/parsers/rules/text.js";

describe("TokenBuffer", () => {
  it("gives the tokens of tokenize, quotes and escapes included", () => {
    const buf = new TokenBuffer();
    const words = ["-A", "INPUT", '"a b"', '"x \\"y\\" z"', 'a"b c"d', '"unterminated', "\t", "  ", "!", '\\"', '"\\\\"', "x".repeat(70)];
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 3000; k++) {
      let line = "";
      for (let i = Math.floor(rnd() * 40); i > 0; i--) line += words[Math.floor(rnd() * words.length)]! + (rnd() < 0.8 ? " " : "");
      const expected = tokenize(line);
      const n = buf.fill(line);
      const got = Array.from({ length: n }, (_, i) => ({ text: buf.text(i), start: buf.starts[i], end: buf.ends[i], quoted: buf.quoted[i] === 1 }));
      expect(got, line).toEqual(expected);
      expect(buf.text(n)).toBeUndefined();
    }
  });

  it("flags binary data on the way, in quotes too", () => {
    const buf = new TokenBuffer();
    buf.fill("-A INPUT -j ACCEPT");
    expect(buf.garbage).toBe(false);
    for (const line of ["-A IN\u0000PUT", '-A X "q\u007fq"', "-A X \ufffd", '-A X "\\\u0002"']) {
      buf.fill(line);
      expect(buf.garbage, JSON.stringify(line)).toBe(true);
    }
    buf.fill("-A X\t-j DROP");
    expect(buf.garbage).toBe(false);
  });
});

describe("Interner", () => {
  it("returns one string for equal slices, and the slice itself", () => {
    const names = new Interner();
    const a = names.slice("-A BLOCK -j DROP", 3, 8);
    const b = names.slice("-A X -j BLOCK", 8, 13);
    expect(a).toBe("BLOCK");
    expect(b).toBe("BLOCK");
    expect(names.get("BLOCK")).toBe(a);
    expect(names.slice("x".repeat(300), 0, 300)).toBe("x".repeat(300));
    expect(names.slice("abc", 1, 1)).toBe("");
  });
});
