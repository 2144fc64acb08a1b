/** A progress bar on stderr while a large bundle is read: only on a terminal, never under CI or --quiet. */
import { statSync } from "node:fs";
import cliProgress from "cli-progress";

const MIN_BYTES = 20 * 1024 * 1024; // small bundles finish before a bar would help

export interface Progress {
  onProgress?: (read: number, total: number) => void;
  stop(): void;
}

export function progressFor(path: string, opts: { quiet?: boolean }): Progress {
  const enabled = !opts.quiet && process.stderr.isTTY === true && !process.env.CI && path !== "-";
  let size = 0;
  try {
    size = enabled ? statSync(path).size : 0;
  } catch {
    size = 0;
  }
  if (!enabled || size < MIN_BYTES) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "reading {bar} {percentage}% | {value}/{total} MiB", hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const mib = (n: number): number => Math.round(n / 1048576);
  bar.start(mib(size), 0);
  return {
    onProgress: (read) => bar.update(mib(read)),
    stop: () => bar.stop(),
  };
}
