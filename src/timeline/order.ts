/** Ordering helpers for rows kept as numbers. */

/**
 * Whether a stable sort with `compare` leaves `items` as they are, checked the way V8's TimSort
 * finds its first run: each item compared with the one before it is not smaller. Then the sort
 * can be skipped, with the same result even for a comparator that is not a consistent order.
 */
export function isSortedForStableSort<T>(items: readonly T[], compare: (a: T, b: T) => number): boolean {
  for (let i = 1; i < items.length; i++) if (compare(items[i] as T, items[i - 1] as T) < 0) return false;
  return true;
}

/**
 * Flags the `count` largest weights, ties going to the lower index: the first `count` of a stable
 * sort by weight, descending, without sorting the rows.
 */
export function topByWeight(weights: readonly number[], count: number): Uint8Array {
  const keep = new Uint8Array(weights.length);
  if (count <= 0) return keep;
  if (count >= weights.length) return keep.fill(1);
  const threshold = Float64Array.from(weights).sort()[weights.length - count] as number;
  let left = count;
  for (let i = 0; i < weights.length; i++) {
    if ((weights[i] as number) > threshold) {
      keep[i] = 1;
      left--;
    }
  }
  for (let i = 0; i < weights.length && left > 0; i++) {
    if (weights[i] === threshold) {
      keep[i] = 1;
      left--;
    }
  }
  return keep;
}
