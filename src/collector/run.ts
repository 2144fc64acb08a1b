/**
 * Locating, exporting and running the POSIX sh collector (src/collector/nfdiag-collect.sh).
 * The script ships inside the npm package (package.json "files"), both for `nfdiag collector`
 * (write it out to hand to a customer) and `nfdiag collect` (run it on this host).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, readFile } from "node:fs/promises";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT_REL = join("src", "collector", "nfdiag-collect.sh");

/**
 * Absolute path of nfdiag-collect.sh: walks up from this module to the folder holding
 * package.json (works from src/ under tsx and from dist/src/ after the build).
 */
export function collectorScriptPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  let firstPackageDir: string | undefined;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) {
      firstPackageDir ??= dir;
      const candidate = join(dir, SCRIPT_REL);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(
    `nfdiag-collect.sh not found: looked for ${SCRIPT_REL} next to package.json above ${fileURLToPath(import.meta.url)}` +
      (firstPackageDir ? ` (nearest package.json: ${firstPackageDir})` : ""),
  );
}

/** Writes the collector script to `file` (mode 0755), or to stdout when `file` is "-". Returns what was written to. */
export async function writeCollector(file: string): Promise<string> {
  const script = collectorScriptPath();
  if (file === "-") {
    const text = await readFile(script);
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
    });
    return "-";
  }
  await copyFile(script, file);
  await chmod(file, 0o755);
  return file;
}

/**
 * Runs `sh nfdiag-collect.sh ...args` with inherited stdio (the tarball path is the last stdout
 * line). Resolves with the exit code (128 + signal number when killed by a signal).
 */
export function runCollector(args: string[]): Promise<number> {
  const script = collectorScriptPath();
  return new Promise<number>((resolve, reject) => {
    const child = spawn("sh", [script, ...args], { stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

