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
import { NumberTable } from "./number-table.js";

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

/** A counter's content with printed keys: what a worker thread sends back to be merged. */
export interface CounterState {
  items: [string, number][];
  offset: number;
  total: number;
  sketching: boolean;
  distinctAtSwitch: number;
}

/**
 * Keys may be strings or numbers (an IPv4 address as an int32, `l4 id << 16 | port`): numbers cost
 * no allocation per line. `formatKey` turns a number key into its printed form for `top()`.
 * While exact, number keys live in a NumberTable and `order` remembers the first sight of every key,
 * so that the switch to the sketch sees the keys in the same order as one Map would have held them.
 */
export class BoundedCounter<K extends string | number = string> {
  /** Counts in mutable boxes: a hit costs one map lookup instead of a get and a set. */
  private readonly counts = new Map<K, { n: number }>();
  private numbers: NumberTable | undefined;
  private order: K[] = [];
  private sketching = false;
  private distinctAtSwitch = 0;
  private offset = 0;
  private total = 0;
  /** Consecutive adds of one key are summed first (zone 0, mark 0 … line after line): same result, one lookup. */
  private pendingKey: K | undefined;
  private pendingN = 0;

  constructor(
    private readonly exactCap = 200_000,
    private readonly sketchSize = 4096,
    private readonly formatKey: (key: K) => string = String,
  ) {}

  add(key: K, n = 1): void {
    if (key === this.pendingKey) {
      this.pendingN += n;
      return;
    }
    this.flush();
    this.pendingKey = key;
    this.pendingN = n;
  }

  private flush(): void {
    const key = this.pendingKey;
    if (key === undefined) return;
    this.pendingKey = undefined;
    this.count(key, this.pendingN);
  }

  private count(key: K, n: number): void {
    this.total += n;
    if (!this.sketching && typeof key === "number") {
      const table = (this.numbers ??= new NumberTable());
      if (table.addIfPresent(key, n)) return;
      if (this.order.length < this.exactCap) {
        table.insert(key, n);
        this.order.push(key);
        return;
      }
      this.switchToSketch();
    }
    const counts = this.counts;
    const box = counts.get(key);
    if (box !== undefined) {
      box.n += n;
      return;
    }
    if (!this.sketching) {
      if (this.order.length < this.exactCap) {
        const kept = detach(key);
        counts.set(kept, { n });
        this.order.push(kept);
        return;
      }
      this.switchToSketch();
    } else if (counts.size >= this.sketchSize) {
      this.purge();
    }
    counts.set(detach(key), { n });
  }

  get approximate(): boolean {
    this.flush();
    return this.sketching;
  }

  /** The `limit` largest keys, count descending then key ascending. */
  top(limit: number): TopCounts {
    this.flush();
    const offset = this.offset;
    const format = this.formatKey;
    const items = this.entries().map(([key, n]) => ({ key: format(key), count: n + offset, overcount: offset }));
    items.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      items: items.slice(0, limit),
      distinctKeys: this.sketching ? this.distinctAtSwitch : this.order.length,
      total: this.total,
      approximate: this.sketching,
    };
  }

  /** The content with printed keys (counts without the offset). */
  exportState(): CounterState {
    this.flush();
    const format = this.formatKey;
    const items: [string, number][] = [];
    for (const [key, n] of this.entries()) items.push([format(key), n]);
    return { items, offset: this.offset, total: this.total, sketching: this.sketching, distinctAtSwitch: this.distinctAtSwitch };
  }

  /**
   * One counter holding several exported ones. A single state comes back exactly as it was (top
   * lists unchanged); several are summed key by key, their offsets added (Misra-Gries summaries
   * merge that way: each count stays a lower bound, true <= count + offset).
   */
  static fromStates(states: CounterState[], exactCap: number, sketchSize: number): BoundedCounter {
    const union = states.reduce((n, s) => n + s.items.length, 0);
    const c = new BoundedCounter(states.length === 1 ? Math.max(exactCap, union) : exactCap, sketchSize);
    for (const s of states) for (const [key, n] of s.items) c.add(key, n);
    c.flush();
    c.total = states.reduce((n, s) => n + s.total, 0);
    c.offset += states.reduce((n, s) => n + s.offset, 0);
    if (states.some((s) => s.sketching)) {
      c.sketching = true;
      c.distinctAtSwitch = Math.max(c.distinctAtSwitch, ...states.map((s) => s.distinctAtSwitch));
    }
    return c;
  }

  /** Every key and count, in the order the keys were first seen (exact) or the sketch holds them. */
  private entries(): [K, number][] {
    if (this.sketching) return [...this.counts].map(([key, box]) => [key, box.n]);
    return this.order.map((key) => [key, typeof key === "number" ? (this.numbers?.get(key) ?? 0) : (this.counts.get(key)?.n ?? 0)]);
  }

  private switchToSketch(): void {
    const sorted = this.entries().sort((a, b) => b[1] - a[1]);
    this.distinctAtSwitch = sorted.length;
    this.sketching = true;
    this.counts.clear();
    this.numbers = undefined;
    this.order = [];
    for (const [key, n] of sorted.slice(0, this.sketchSize)) this.counts.set(key, { n });
    this.offset = sorted[this.sketchSize]?.[1] ?? 0;
    if (this.counts.size >= this.sketchSize) this.purge();
  }

  private purge(): void {
    const values: number[] = [];
    for (const box of this.counts.values()) values.push(box.n);
    const median = selectKth(values, values.length >> 1);
    for (const [key, box] of this.counts) {
      if (box.n <= median) this.counts.delete(key);
      else box.n -= median;
    }
    this.offset += median;
  }
}

/**
 * A copy of `s` that does not share memory with the string it was sliced from. Keys are slices of
 * the decoded archive chunk their line came from; kept as they are, 200,000 keys would keep most of
 * a streamed file's text alive (V8 sliced strings hold their parent).
 */
export function detach<K extends string | number>(s: K): K {
  return typeof s === "number" || s.length < 13 ? s : ((` ${s}`).slice(1) as K);
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
