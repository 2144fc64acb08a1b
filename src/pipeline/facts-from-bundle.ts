/** One call from a bundle path to Facts: what analyzer tests and the engine start from. */
import type { BundleLimits } from "../bundle/limits.js";
import type { BundleInput } from "../bundle/read.js";
import { Facts } from "../facts/facts.js";
import { type LoadedBundle, loadBundle } from "./load.js";

export async function factsFromLoaded(loaded: LoadedBundle): Promise<Facts> {
  return new Facts({
    parsed: loaded.parsed,
    resolved: loaded.resolved,
    statuses: loaded.statuses,
    warnings: loaded.warnings,
    ...(loaded.collectedAt ? { collectedAt: loaded.collectedAt } : {}),
  });
}

export async function factsFromBundle(input: string | BundleInput, limits?: BundleLimits): Promise<{ facts: Facts; loaded: LoadedBundle }> {
  const bundleInput: BundleInput = typeof input === "string" ? { kind: "path", path: input } : input;
  const loaded = await loadBundle(bundleInput, limits);
  return { facts: await factsFromLoaded(loaded), loaded };
}
