/**
 * Counts keys exactly up to a cap of distinct keys, then switches to a Misra-Gries heavy-hitter
 * sketch so memory stays bounded on huge conntrack dumps.
 *
 * The sketch is the "frequent items" variant with batch purges (as in Apache DataSketches): at most
 * `sketchSize` counters; when a new key finds it full, the median count is subtracted from every
 * counter, counters that reach 0 are dropped, and the median is added to a global `offset`. Each
 * kept count is a lower bound of the true count and true <= count + offset, so a top list reports
 * `count = kept + offset` with `overcount = offset` (true count in [count - overcount, count]).
 * Any key with more than total / (sketchSize / 2) occurrences is guaranteed to be kept. Purges
 * cost O(sketchSize) once per ~sketchSize/2 new keys: O(1) amortised per line.
 * The switch keeps the exact top `sketchSize` keys and starts the offset at the largest dropped
 * count, so the bounds hold from then on.
 */
import { z } from "zod";

export const topCountsSchema = z.object({
  items: z.array(
    z.object({
      key: z.string(),
      count: z.number().int().nonnegative(),
      /** Upper bound of how much `count` may exceed the true count (0 when exact). */
      overcount: z.number().int().nonnegative(),
    }),
  ),
  /** Number of distinct keys: exact unless `approximate`, then a lower bound (the cap). */
  distinctKeys: z.number().int().nonnegative(),
  /** Sum of all counts (always exact). */
  total: z.number().int().nonnegative(),
  /** True once the distinct-key cap was passed and the sketch took over. */
  approximate: z.boolean(),
});
export type TopCounts = z.infer<typeof topCountsSchema>;

export class BoundedCounter {
  private readonly counts = new Map<string, number>();
  private sketching = false;
  private distinctAtSwitch = 0;
  private offset = 0;
  private total = 0;

  constructor(
    private readonly exactCap = 200_000,
    private readonly sketchSize = 4096,
  ) {}

  add(key: string, n = 1): void {
    this.total += n;
    const counts = this.counts;
    const prev = counts.get(key);
    if (prev !== undefined) {
      counts.set(key, prev + n);
      return;
    }
    if (!this.sketching) {
      if (counts.size < this.exactCap) {
        counts.set(detach(key), n);
        return;
      }
      this.switchToSketch();
    } else if (counts.size >= this.sketchSize) {
      this.purge();
    }
    counts.set(detach(key), n);
  }

  get approximate(): boolean {
    return this.sketching;
  }

  /** The `limit` largest keys, count descending then key ascending. */
  top(limit: number): TopCounts {
    const offset = this.offset;
    const items = [...this.counts].map(([key, count]) => ({ key, count: count + offset, overcount: offset }));
    items.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      items: items.slice(0, limit),
      distinctKeys: this.sketching ? this.distinctAtSwitch : this.counts.size,
      total: this.total,
      approximate: this.sketching,
    };
  }

  private switchToSketch(): void {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1]);
    this.distinctAtSwitch = sorted.length;
    this.sketching = true;
    this.counts.clear();
    for (const [key, count] of sorted.slice(0, this.sketchSize)) this.counts.set(key, count);
    this.offset = sorted[this.sketchSize]?.[1] ?? 0;
    if (this.counts.size >= this.sketchSize) this.purge();
  }

  private purge(): void {
    const values = [...this.counts.values()];
    const median = selectKth(values, values.length >> 1);
    for (const [key, count] of this.counts) {
      if (count <= median) this.counts.delete(key);
      else this.counts.set(key, count - median);
    }
    this.offset += median;
  }
}

/**
 * A copy of `s` that does not share memory with the string it was sliced from. Keys are slices of
 * the decoded archive chunk their line came from; kept as they are, 200,000 keys would keep most of
 * a streamed file's text alive (V8 sliced strings hold their parent).
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (` ${s}`).slice(1);
}

/** k-th smallest value (0-based) by quickselect; reorders `a`. */
function selectKth(a: number[], k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] ?? 0;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] ?? 0) < pivot) i++;
      while ((a[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const t = a[i] ?? 0;
        a[i] = a[j] ?? 0;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k] ?? 0;
  }
  return a[k] ?? 0;
}
