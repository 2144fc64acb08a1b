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
 * Number keys live in a NumberTable, exact or sketching (a 2 M-entry dump has over a million
 * distinct sources: a Map would allocate an entry and a box for each one the sketch takes in), and
 * `order` lists the keys held in the order one Map would hold them (first sight, purged keys
 * removed), so that the switch, purges and exports see the keys in the same order either way.
 */
export class BoundedCounter<K extends string | number = string> {
  /** Counts in mutable boxes: a hit costs one map lookup instead of a get and a set. */
  private readonly counts = new Map<K, { n: number }>();
  private numbers: NumberTable | undefined;
  /** The number table's other half while sketching: purges copy the survivors across. */
  private spareNumbers: NumberTable | undefined;
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
    if (typeof key === "number") {
      const table = (this.numbers ??= new NumberTable());
      if (table.addIfPresent(key, n)) return;
    } else {
      const box = this.counts.get(key);
      if (box !== undefined) {
        box.n += n;
        return;
      }
    }
    // A new key.
    if (!this.sketching && this.order.length >= this.exactCap) this.switchToSketch();
    if (this.sketching && this.order.length >= this.sketchSize) this.purge();
    const kept = detach(key);
    if (typeof kept === "number") (this.numbers ??= new NumberTable()).insert(kept, n);
    else this.counts.set(kept, { n });
    this.order.push(kept);
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
    return this.order.map((key) => [key, this.countOf(key)]);
  }

  private countOf(key: K): number {
    return typeof key === "number" ? (this.numbers?.get(key) ?? 0) : (this.counts.get(key)?.n ?? 0);
  }

  private switchToSketch(): void {
    const sorted = this.entries().sort((a, b) => b[1] - a[1]);
    this.distinctAtSwitch = sorted.length;
    this.sketching = true;
    this.counts.clear();
    this.numbers = undefined;
    this.order = [];
    for (const [key, n] of sorted.slice(0, this.sketchSize)) {
      if (typeof key === "number") (this.numbers ??= new NumberTable(this.sketchSize + 1)).insert(key, n);
      else this.counts.set(key, { n });
      this.order.push(key);
    }
    this.offset = sorted[this.sketchSize]?.[1] ?? 0;
    if (this.order.length >= this.sketchSize) this.purge();
  }

  /** Subtracts the median count from every counter and drops those that reach 0. */
  private purge(): void {
    const order = this.order;
    const values: number[] = new Array<number>(order.length);
    for (let i = 0; i < order.length; i++) values[i] = this.countOf(order[i] as K);
    const median = selectKth(values, values.length >> 1);
    const numbers = this.numbers;
    const survivors = numbers === undefined ? undefined : (this.spareNumbers ??= new NumberTable(this.sketchSize + 1));
    survivors?.clear();
    let kept = 0;
    for (let i = 0; i < order.length; i++) {
      const key = order[i] as K;
      if (typeof key === "number") {
        const n = numbers?.get(key) ?? 0;
        if (n <= median) continue;
        survivors?.insert(key, n - median);
      } else {
        const box = this.counts.get(key);
        if (box === undefined || box.n <= median) {
          this.counts.delete(key);
          continue;
        }
        box.n -= median;
      }
      order[kept++] = key;
    }
    order.length = kept;
    if (numbers !== undefined) {
      this.spareNumbers = numbers;
      this.numbers = survivors;
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
