import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { decompressStream } from "../../src/bundle/decompress.js";

const payload = Buffer.from("nf_conntrack: nf_conntrack: table full, dropping packet\n".repeat(5000));
const read = async (s: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe("decompression without the system tools (in-process fallbacks)", () => {
  it.each([
    ["xz", ["xz", "-c"]],
    ["zstd", ["zstd", "-q", "-c"]],
  ] as const)("%s via WebAssembly/JS gives the same bytes as the tool", async (kind, cmd) => {
    const packed = execFileSync(cmd[0], cmd.slice(1), { input: payload });
    const viaJs = await read(decompressStream(kind, Readable.from([packed]), { useTools: false }));
    const viaTool = await read(decompressStream(kind, Readable.from([packed])));
    expect(viaJs.equals(payload)).toBe(true);
    expect(viaTool.equals(payload)).toBe(true);
  });

  it("reports corrupt xz data as an error naming the tool", async () => {
    const packed = execFileSync("xz", ["-c"], { input: payload });
    const corrupt = Buffer.concat([packed.subarray(0, 40), Buffer.alloc(200, 7)]);
    await expect(read(decompressStream("xz", Readable.from([corrupt])))).rejects.toThrow(/xz -dc failed/);
  });
});
