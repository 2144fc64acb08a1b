/**
 * Writes raw ustar archives for tests, including entries real tools refuse to write
 * (`../` names, absolute names, links to /etc, FIFOs, declared sizes larger than the data).
 */
export interface TarEntrySpec {
  name: string;
  type?: "file" | "symlink" | "hardlink" | "fifo" | "dir" | "sparse";
  data?: string | Buffer;
  linkname?: string;
  /** Declared size, when it should differ from the data (truncated or sparse entries). */
  size?: number;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(e: TarEntrySpec, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  const typeflag = { file: "0", symlink: "2", hardlink: "1", fifo: "6", dir: "5", sparse: "S" }[e.type ?? "file"];
  h.write(e.name.slice(0, 100), 0, "latin1");
  h.write(octal(e.type === "dir" ? 0o755 : 0o644, 8), 100, "latin1");
  h.write(octal(0, 8), 108, "latin1");
  h.write(octal(0, 8), 116, "latin1");
  // Sizes over 8 GiB would need base-256; tests stay below.
  h.write(octal(size, 12), 124, "latin1");
  h.write(octal(1_700_000_000, 12), 136, "latin1");
  h.write("        ", 148, "latin1");
  h.write(typeflag, 156, "latin1");
  if (e.linkname) h.write(e.linkname.slice(0, 100), 157, "latin1");
  h.write("ustar\u000000", 257, "latin1");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "latin1");
  return h;
}

export function tarArchive(entries: TarEntrySpec[], opts: { truncateAt?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const declared = e.size ?? (e.type === undefined || e.type === "file" ? data.length : 0);
    parts.push(header(e, declared));
    if (data.length > 0) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  const all = Buffer.concat(parts);
  return opts.truncateAt !== undefined ? all.subarray(0, opts.truncateAt) : all;
}
