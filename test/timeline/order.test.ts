import { describe, expect, it } from "vitest";
import { isSortedForStableSort, topByWeight } from "../../src/timeline/order.js";

describe("isSortedForStableSort", () => {
  const byValue = (a: number, b: number): number => a - b;
  it("is true when no item is smaller than the one before it", () => {
    expect(isSortedForStableSort([], byValue)).toBe(true);
    expect(isSortedForStableSort([1, 1, 2, 5], byValue)).toBe(true);
    expect(isSortedForStableSort([1, 3, 2], byValue)).toBe(false);
  });

  it("says so exactly when sorting would change nothing, even for a comparator that is not an order", () => {
    // NaN compares as "keep": [3, 2, 1] is one run for the sort, and left as it is.
    const odd = (a: number, b: number): number => (a === 2 || b === 2 ? Number.NaN : a - b);
    expect(isSortedForStableSort([3, 2, 1], odd)).toBe(true);
    expect([3, 2, 1].sort(odd)).toEqual([3, 2, 1]);
    expect(isSortedForStableSort([3, 1, 2], odd)).toBe(false);
  });
});

describe("topByWeight", () => {
  it("flags the largest weights, ties to the lower index, like the head of a stable sort", () => {
    expect([...topByWeight([1, 5, 3, 5, 2], 2)]).toEqual([0, 1, 0, 1, 0]);
    expect([...topByWeight([4, 4, 4], 2)]).toEqual([1, 1, 0]);
    expect([...topByWeight([1, 2], 0)]).toEqual([0, 0]);
    expect([...topByWeight([1, 2], 5)]).toEqual([1, 1]);
  });

  it("matches a stable sort on random weights", () => {
    let seed = 3;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    for (let round = 0; round < 200; round++) {
      const weights = Array.from({ length: 1 + rnd(60) }, () => rnd(8));
      const count = rnd(weights.length + 2);
      const ranked = weights.map((w, i) => ({ w, i })).sort((a, b) => b.w - a.w);
      const want = new Uint8Array(weights.length);
      for (const { i } of ranked.slice(0, count)) want[i] = 1;
      expect([...topByWeight(weights, count)]).toEqual([...want]);
    }
  });
});
