/** Discovers analyzers: every file in analyzers/ exporting `analyzer`. A new root cause is one new file. */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Analyzer } from "./types.js";

// src/engine/ (tests, tsx) and dist/src/engine/ (built) both sit two levels below the folder holding analyzers/.
const ANALYZERS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "analyzers");

let loaded: Analyzer[] | undefined;

export async function loadAnalyzers(dir = ANALYZERS_DIR): Promise<Analyzer[]> {
  if (loaded && dir === ANALYZERS_DIR) return loaded;
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(d|test)\.ts$/.test(f) && !f.startsWith("index."))
    .sort();
  const analyzers: Analyzer[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { analyzer?: Analyzer };
    if (!mod.analyzer?.meta?.id || typeof mod.analyzer.detect !== "function") throw new Error(`analyzers/${f} exports no analyzer { meta, detect }`);
    const expected = f.replace(/\.(ts|js)$/, "");
    if (mod.analyzer.meta.id !== expected) throw new Error(`analyzers/${f} declares id ${mod.analyzer.meta.id}; the file must be named after its id`);
    analyzers.push(mod.analyzer);
  }
  if (dir === ANALYZERS_DIR) loaded = analyzers;
  return analyzers;
}
