/**
 * Counts keys exactly up to a cap of distinct keys, then switches to a Space-Saving heavy-hitter
 * sketch (Metwally et al.) so memory stays bounded on huge conntrack dumps.
 *
 * Space-Saving keeps `sketchSize` counters in a min-heap. A new key takes over the smallest
 * counter: its count becomes min + n and its possible overcount `min`. Every estimate is >= the true
 * count and (estimate - overcount) <= true count; any key whose true count exceeds total/sketchSize
 * is guaranteed to be monitored. The switch keeps the exact top `sketchSize` keys with overcount 0:
 * a dropped key's count was <= the smallest kept one, so the invariant holds from then on.
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
  private exact: Map<string, number> | null = new Map();
  private distinctAtSwitch = 0;
  private total = 0;
  // Space-Saving state (min-heap on counts).
  private heapKeys: string[] = [];
  private heapCounts: number[] = [];
  private heapErrors: number[] = [];
  private readonly position = new Map<string, number>();

  constructor(
    private readonly exactCap = 200_000,
    private readonly sketchSize = 4096,
  ) {}

  add(key: string, n = 1): void {
    this.total += n;
    const exact = this.exact;
    if (exact !== null) {
      const prev = exact.get(key);
      if (prev !== undefined) {
        exact.set(key, prev + n);
        return;
      }
      if (exact.size < this.exactCap) {
        exact.set(key, n);
        return;
      }
      this.switchToSketch();
    }
    this.addToSketch(key, n);
  }

  get approximate(): boolean {
    return this.exact === null;
  }

  /** The `limit` largest keys, count descending then key ascending. */
  top(limit: number): TopCounts {
    let items: TopCounts["items"];
    let distinct: number;
    if (this.exact !== null) {
      distinct = this.exact.size;
      items = [...this.exact].map(([key, count]) => ({ key, count, overcount: 0 }));
    } else {
      distinct = this.distinctAtSwitch;
      items = this.heapKeys.map((key, i) => ({ key, count: this.heapCounts[i] ?? 0, overcount: this.heapErrors[i] ?? 0 }));
    }
    items.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items: items.slice(0, limit), distinctKeys: distinct, total: this.total, approximate: this.exact === null };
  }

  private switchToSketch(): void {
    const exact = this.exact;
    if (exact === null) return;
    this.distinctAtSwitch = exact.size;
    const kept = [...exact].sort((a, b) => b[1] - a[1]).slice(0, this.sketchSize);
    this.exact = null;
    // Ascending order is a valid min-heap.
    kept.reverse();
    kept.forEach(([key, count], i) => {
      this.heapKeys.push(key);
      this.heapCounts.push(count);
      this.heapErrors.push(0);
      this.position.set(key, i);
    });
  }

  private addToSketch(key: string, n: number): void {
    const at = this.position.get(key);
    if (at !== undefined) {
      this.heapCounts[at] = (this.heapCounts[at] ?? 0) + n;
      this.siftDown(at);
      return;
    }
    if (this.heapKeys.length < this.sketchSize) {
      const i = this.heapKeys.length;
      this.heapKeys.push(key);
      this.heapCounts.push(n);
      this.heapErrors.push(0);
      this.position.set(key, i);
      this.siftUp(i);
      return;
    }
    const min = this.heapCounts[0] ?? 0;
    this.position.delete(this.heapKeys[0] ?? "");
    this.heapKeys[0] = key;
    this.heapCounts[0] = min + n;
    this.heapErrors[0] = min;
    this.position.set(key, 0);
    this.siftDown(0);
  }

  private swap(i: number, j: number): void {
    const k = this.heapKeys, c = this.heapCounts, e = this.heapErrors;
    const ki = k[i] ?? "", kj = k[j] ?? "";
    k[i] = kj; k[j] = ki;
    const ci = c[i] ?? 0; c[i] = c[j] ?? 0; c[j] = ci;
    const ei = e[i] ?? 0; e[i] = e[j] ?? 0; e[j] = ei;
    this.position.set(kj, i);
    this.position.set(ki, j);
  }

  private siftUp(i: number): void {
    const c = this.heapCounts;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((c[parent] ?? 0) <= (c[i] ?? 0)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const c = this.heapCounts;
    const n = c.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const child = r < n && (c[r] ?? 0) < (c[l] ?? 0) ? r : l;
      if ((c[i] ?? 0) <= (c[child] ?? 0)) return;
      this.swap(i, child);
      i = child;
    }
  }
}
