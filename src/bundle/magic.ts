/** Container detection by magic bytes, never by file name. */
export type ContainerKind = "gzip" | "xz" | "zstd" | "bzip2" | "zip" | "tar" | "text" | "binary" | "empty";

export function detectContainer(head: Uint8Array): ContainerKind {
  if (head.length === 0) return "empty";
  const at = (i: number): number => head[i] ?? -1;
  if (at(0) === 0x1f && at(1) === 0x8b) return "gzip";
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58 && at(4) === 0x5a && at(5) === 0x00) return "xz";
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return "zstd";
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68 && at(3) >= 0x31 && at(3) <= 0x39) return "bzip2";
  if (at(0) === 0x50 && at(1) === 0x4b && ((at(2) === 3 && at(3) === 4) || (at(2) === 5 && at(3) === 6))) return "zip";
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString("latin1") === "ustar") return "tar";
  return looksLikeText(head) ? "text" : "binary";
}

export const isCompression = (k: ContainerKind): k is "gzip" | "xz" | "zstd" | "bzip2" =>
  k === "gzip" || k === "xz" || k === "zstd" || k === "bzip2";

/** Text if it has no NUL and few control bytes (UTF-8 multibyte bytes count as text). */
export function looksLikeText(head: Uint8Array): boolean {
  let control = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b)) control++;
  }
  return control <= head.length / 100 + 1;
}

export const COMPRESSION_SUFFIX: Record<"gzip" | "xz" | "zstd" | "bzip2", RegExp> = {
  gzip: /\.(gz|tgz)$/i,
  xz: /\.(xz|txz)$/i,
  zstd: /\.(zst|zstd|tzst)$/i,
  bzip2: /\.(bz2|tbz2?)$/i,
};

/** `x.tgz` → `x.tar`, `log.gz` → `log`, other names unchanged. */
export function stripCompressionSuffix(name: string, kind: "gzip" | "xz" | "zstd" | "bzip2"): string {
  if (/\.t(gz|xz|zst|bz2?)$/i.test(name)) return name.replace(/\.t(gz|xz|zst|bz2?)$/i, ".tar");
  return name.replace(COMPRESSION_SUFFIX[kind], "");
}
