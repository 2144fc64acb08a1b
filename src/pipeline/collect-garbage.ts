/**
 * A full garbage collection between the phases of a big analysis. Reading a 1 GB bundle leaves
 * hundreds of MB of dead line strings and parser scratch in the old generation; V8 lets the heap
 * grow on through the analyzers before it collects, so the peak RSS was live data plus all of it
 * (480 MB on the 1 GB bundle). Two collections at phase boundaries cost ~0.1–0.2 s there and keep
 * the peak under 400 MB. Small bundles never pay for it.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Bundles with at least this much content get the collections. */
export const COLLECT_ABOVE_BYTES = 256 * 1024 ** 2;

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    // --expose-gc set at run time makes `gc` exist in contexts created afterwards.
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
