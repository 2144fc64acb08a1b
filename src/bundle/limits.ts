/** Limits that keep a hostile or huge bundle from exhausting memory or time. */
export interface BundleLimits {
  /** Regular files read at most; further entries are counted and skipped. */
  maxFiles: number;
  /** Decompressed bytes read at most across the whole bundle. */
  maxTotalBytes: number;
  /** A file larger than this is never held in memory: it is streamed to its parser or cut. */
  maxInMemoryFileBytes: number;
  /** Decompressed bytes held in memory at most across all files. */
  maxInMemoryTotalBytes: number;
  /** Abort when more than `ratioFloorBytes` were inflated at more than this ratio. */
  maxDecompressionRatio: number;
  ratioFloorBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxFiles: 50_000,
  maxTotalBytes: 16 * 1024 ** 3,
  maxInMemoryFileBytes: 32 * 1024 ** 2,
  maxInMemoryTotalBytes: 512 * 1024 ** 2,
  maxDecompressionRatio: 250,
  ratioFloorBytes: 256 * 1024 ** 2,
};

/** Raised to stop reading a bundle; the message is the one-line reason shown to the user. */
export class BundleLimitError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BundleLimitError";
  }
}

export const formatBytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};
