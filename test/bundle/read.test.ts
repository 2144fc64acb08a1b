import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync, symlinkSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { openBundle, resolveInBundle, type StreamRouter } from "../../src/bundle/bundle.js";
import { DEFAULT_LIMITS } from "../../src/bundle/limits.js";
import { tarArchive } from "../helpers/tar-writer.js";

const noStreaming: StreamRouter = { route: () => null };
const tmp = (): string => mkdtempSync(join(tmpdir(), "nfdiag-read-"));
const text = (b: { text?: string } | undefined): string => b?.text ?? "<missing>";

const sample = [
  { name: "bundle/manifest.json", data: '{"collector":"nfdiag"}\n' },
  { name: "bundle/commands/dmesg", data: "[    1.000000] nf_conntrack: nf_conntrack: table full, dropping packet\n" },
  { name: "bundle/files/proc/modules", data: "nf_conntrack 184320 1 xt_conntrack, Live 0x0000000000000000\n" },
];

function writeArchive(dir: string, name: string, buf: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, buf);
  return p;
}

describe("container detection by magic bytes, not by name", () => {
  const dir = tmp();
  const tar = tarArchive(sample);
  const plainTar = writeArchive(dir, "a.bin", tar);
  const gz = writeArchive(dir, "b.zip", gzipSync(tar)); // misleading name on purpose
  const xz = join(dir, "c.tar.xz");
  const zst = join(dir, "d.tar.zst");
  const bz = join(dir, "e.tar.bz2");
  writeFileSync(xz, execFileSync("xz", ["-c"], { input: tar }));
  writeFileSync(zst, execFileSync("zstd", ["-q", "-c"], { input: tar }));
  writeFileSync(bz, execFileSync("bzip2", ["-c"], { input: tar }));

  it.each([
    ["plain tar", plainTar, ["tar"]],
    ["gzip named .zip", gz, ["gzip", "tar"]],
    ["xz", xz, ["xz", "tar"]],
    ["zstd", zst, ["zstd", "tar"]],
    ["bzip2", bz, ["bzip2", "tar"]],
  ])("%s", async (_label, path, containers) => {
    const b = await openBundle({ kind: "path", path }, noStreaming);
    expect(b.containers).toEqual(containers);
    expect([...b.files.keys()].sort()).toEqual(sample.map((s) => s.name).sort());
    expect(text(b.files.get("bundle/commands/dmesg"))).toContain("table full");
  });

  it("reads a zip holding a .tar.xz (one level of nesting)", async () => {
    const zdir = tmp();
    writeFileSync(join(zdir, "sosreport-x.tar.xz"), execFileSync("xz", ["-c"], { input: tar }));
    const zip = join(dir, "ticket.zip");
    execFileSync("zip", ["-q", "-j", zip, join(zdir, "sosreport-x.tar.xz")]);
    const b = await openBundle({ kind: "path", path: zip }, noStreaming);
    expect(b.containers).toEqual(["zip", "xz", "tar"]);
    expect(text(b.files.get("sosreport-x/bundle/commands/dmesg"))).toContain("table full");
  });

  it("reads a folder and a single text file", async () => {
    const f = tmp();
    mkdirSync(join(f, "commands"), { recursive: true });
    writeFileSync(join(f, "commands", "dmesg"), "x\n");
    const b = await openBundle({ kind: "path", path: f }, noStreaming);
    expect(text(b.files.get("commands/dmesg"))).toBe("x\n");
    const single = writeArchive(f, "paste.txt", Buffer.from("cpu=0 found=1 invalid=2\n"));
    const s = await openBundle({ kind: "path", path: single }, noStreaming);
    expect(s.containers).toEqual(["text"]);
    expect([...s.files.keys()]).toEqual(["paste.txt"]);
  });

  it("gunzips .gz members transparently and names them without the suffix", async () => {
    const inner = gzipSync(Buffer.from("ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1\n"));
    const b = await openBundle(
      { kind: "path", path: writeArchive(tmp(), "g.tar", tarArchive([{ name: "t/files/proc/net/nf_conntrack.gz", data: inner }])) },
      noStreaming,
    );
    expect(text(b.files.get("t/files/proc/net/nf_conntrack"))).toContain("ESTABLISHED");
  });
});

describe("hostile archives", () => {
  it("normalises ../ and absolute names and never follows links out of the bundle", async () => {
    const dir = tmp();
    const path = writeArchive(
      dir,
      "evil.tar",
      tarArchive([
        { name: "../../escape.txt", data: "a\n" },
        { name: "/etc/cron.d/evil", data: "b\n" },
        { name: "b/shadow", type: "symlink", linkname: "/etc/shadow" },
        { name: "b/up", type: "symlink", linkname: "../../../etc/passwd" },
        { name: "b/fifo", type: "fifo" },
        { name: "b/proc/self", type: "symlink", linkname: "242" },
        { name: "b/proc/net", type: "symlink", linkname: "self/net" },
        { name: "b/proc/242/net/stat/nf_conntrack", data: "entries\n" },
      ]),
    );
    const b = await openBundle({ kind: "path", path }, noStreaming);
    expect([...b.files.keys()].sort()).toEqual(["b/proc/242/net/stat/nf_conntrack", "escape.txt", "etc/cron.d/evil"]);
    const codes = b.summary.warnings.map((w) => w.code);
    expect(codes.filter((c) => c === "unsafe-name")).toHaveLength(2);
    expect(codes.filter((c) => c === "link-outside")).toHaveLength(2);
    expect(b.summary.warnings.find((w) => w.code === "not-a-file")?.message).toMatch(/b\/fifo: FIFO entry skipped/);
    // A link chain inside the bundle resolves, like sos 4.0's proc/net -> self/net -> 242/net.
    expect(resolveInBundle(b, "b/proc/net/stat/nf_conntrack")).toBe("b/proc/242/net/stat/nf_conntrack");
    expect(readdirSync(dir)).toEqual(["evil.tar"]); // nothing was written next to the archive
  });

  it("keeps what a truncated .tar.gz held before the cut, with a warning", async () => {
    const files = Array.from({ length: 40 }, (_, i) => ({ name: `t/f${i}`, data: `line ${i}\n`.repeat(200) }));
    const gz = gzipSync(tarArchive(files));
    const b = await openBundle({ kind: "path", path: writeArchive(tmp(), "cut.tar.gz", gz.subarray(0, Math.floor(gz.length / 2))) }, noStreaming);
    expect(b.files.size).toBeGreaterThan(3);
    expect(b.files.size).toBeLessThan(40);
    expect(b.summary.warnings.map((w) => w.code)).toContain("archive-truncated");
  });

  it("marks the member the cut went through as truncated, with how much of it is there", async () => {
    const big = { name: "t/big", data: "0123456789abcdef\n".repeat(64 * 1024) }; // 1 MiB
    const tar = tarArchive([{ name: "t/small", data: "x\n" }, big]);
    const b = await openBundle({ kind: "path", path: writeArchive(tmp(), "cut.tar", tar.subarray(0, 512 * 4 + 300_000)) }, noStreaming);
    expect(b.files.get("t/small")?.truncated).toBeUndefined();
    expect(b.files.get("t/big")?.truncated).toMatch(/^only \d+ of 1114112 bytes present \(archive truncated\)$/);
  });

  it("refuses an encrypted zip member with a clear warning", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "dmesg"), "secret\n");
    const zip = join(dir, "enc.zip");
    execFileSync("zip", ["-q", "-j", "-P", "pw", zip, join(dir, "dmesg")]);
    await expect(openBundle({ kind: "path", path: zip }, noStreaming)).resolves.toMatchObject({ files: new Map() });
    const b = await openBundle({ kind: "path", path: zip }, noStreaming);
    expect(b.summary.warnings[0]?.message).toMatch(/dmesg is encrypted/);
  });

  it("skips a 4 GB sparse entry without reading 4 GB", async () => {
    const dir = tmp();
    const big = join(dir, "sparse.img");
    execFileSync("truncate", ["-s", "4G", big]);
    writeFileSync(join(dir, "dmesg"), "ok\n");
    const tarPath = join(dir, "sparse.tar.gz");
    execFileSync("tar", ["-czSf", tarPath, "-C", dir, "sparse.img", "dmesg"]);
    const started = Date.now();
    const b = await openBundle({ kind: "path", path: tarPath }, noStreaming);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(text(b.files.get("dmesg"))).toBe("ok\n");
    expect(b.files.has("sparse.img")).toBe(false);
    expect(b.summary.warnings.find((w) => w.path === "sparse.img")?.message).toMatch(/sparse\.img: .* skipped/);
  });

  it("stops at the file-count limit and says how many were left", async () => {
    const entries = Array.from({ length: 70_000 }, (_, i) => ({ name: `many/f${i}`, data: "x" }));
    const path = writeArchive(tmp(), "many.tar.gz", gzipSync(tarArchive(entries), { level: 1 }));
    const b = await openBundle({ kind: "path", path }, noStreaming, { ...DEFAULT_LIMITS, maxFiles: 50_000 });
    expect(b.files.size).toBe(50_000);
    expect(b.summary.warnings.find((w) => w.code === "too-many-files")?.message).toBe(
      "the bundle holds more than 50000 files: 20000 further files were not read",
    );
  });

  it("aborts a decompression bomb with a one-line reason", async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const path = writeArchive(tmp(), "bomb.tar.gz", gzipSync(tarArchive([{ name: "dmesg", data: "x\n" }, { name: "zeros", data: zeros }]), { level: 9 }));
    const b = await openBundle({ kind: "path", path }, noStreaming, { ...DEFAULT_LIMITS, ratioFloorBytes: 16 * 1024 * 1024 });
    expect(b.summary.aborted).toMatch(/^decompression bomb suspected: .* \(ratio over 250:1\); reading stopped$/);
    expect(text(b.files.get("dmesg"))).toBe("x\n");
  });

  it("cuts a large file that no parser streams, and says so", async () => {
    const path = writeArchive(tmp(), "big.tar", tarArchive([{ name: "huge.bin.txt", data: "y".repeat(3 * 1024 * 1024) }]));
    const b = await openBundle({ kind: "path", path }, noStreaming, { ...DEFAULT_LIMITS, maxInMemoryFileBytes: 1024 * 1024 });
    expect(b.files.get("huge.bin.txt")?.truncated).toMatch(/only the first part was kept/);
    expect(b.files.get("huge.bin.txt")?.size).toBe(3 * 1024 * 1024);
  });

  it("streams a large routed file into its parser instead of holding it", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join("\n");
    const path = writeArchive(tmp(), "s.tar", tarArchive([{ name: "x/proc/net/nf_conntrack", data: lines }]));
    let count = 0;
    const router: StreamRouter = {
      route: (p) => (p.endsWith("nf_conntrack") ? { sourceId: "conntrack-table", start: () => ({ push: () => void count++, end: () => ({ value: count, warnings: [] }) }) } : null),
    };
    const b = await openBundle({ kind: "path", path }, router, { ...DEFAULT_LIMITS, maxInMemoryFileBytes: 64 * 1024 });
    const f = b.files.get("x/proc/net/nf_conntrack");
    expect(f?.text).toBeUndefined();
    expect(f?.streamed?.result.value).toBe(50_000);
    expect(f?.streamed?.lines).toBe(50_000);
  });

  it("says which member a chunked parser failed on, early or after the read, and leaves it unparsed", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join("\n");
    const path = writeArchive(tmp(), "f.tar", tarArchive([{ name: "x/proc/net/nf_conntrack", data: lines }, { name: "x/after", data: "after\n" }]));
    for (const settleLater of [false, true]) {
      const router: StreamRouter = {
        route: (p) =>
          p.endsWith("nf_conntrack")
            ? {
                sourceId: "conntrack-table",
                start: () => ({ push: () => undefined, end: () => ({ value: 0, warnings: [] }) }),
                startChunked: () => ({ write: () => undefined, end: () => Promise.reject(new Error("the second thread could not read it")), longLines: [], lines: 0 }),
              }
            : null,
      };
      const b = await openBundle({ kind: "path", path }, router, { ...DEFAULT_LIMITS, maxInMemoryFileBytes: 64 * 1024 }, { settleLater });
      await b.settled;
      const f = b.files.get("x/proc/net/nf_conntrack");
      expect(f?.streamed?.result.value).toBeUndefined();
      expect(b.summary.warnings).toContainEqual({ code: "parse-failed", path: "x/proc/net/nf_conntrack", message: "x/proc/net/nf_conntrack: not parsed: the second thread could not read it" });
      expect(b.files.get("x/after")?.text).toBe("after\n");
    }
  });
});

describe("links in folders", () => {
  it("resolves a link inside the folder and ignores one pointing out", async () => {
    const d = tmp();
    mkdirSync(join(d, "proc/242/net"), { recursive: true });
    writeFileSync(join(d, "proc/242/net/ip_tables_names"), "filter\n");
    symlinkSync("242", join(d, "proc/self"));
    symlinkSync("/etc/passwd", join(d, "passwd"));
    const b = await openBundle({ kind: "path", path: d }, noStreaming);
    expect(resolveInBundle(b, "proc/self/net/ip_tables_names")).toBe("proc/242/net/ip_tables_names");
    expect(b.files.has("passwd")).toBe(false);
    expect(b.summary.warnings.map((w) => w.code)).toContain("link-outside");
  });
});
