/**
 * Counts per number key in flat typed arrays (open addressing, linear probing): the exact phase of
 * a counter with up to 200,000 addresses. A Map of that size costs a cache miss or two per lookup
 * for millions of lines; these arrays keep keys and counts side by side.
 */
export class NumberTable {
  private keys: Float64Array;
  private counts: Float64Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n <<= 1;
    this.keys = new Float64Array(n).fill(Number.NaN);
    this.counts = new Float64Array(n);
    this.mask = n - 1;
  }

  /** Adds n to key's count; false when the key is new (not added: the caller decides). */
  addIfPresent(key: number, n: number): boolean {
    const keys = this.keys;
    for (let i = slotOf(key, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i] as number;
      if (k === key) {
        this.counts[i] = (this.counts[i] as number) + n;
        return true;
      }
      if (k !== k) return false; // NaN: an empty slot ends the probe
    }
  }

  /** Adds a key that is not in the table yet. */
  insert(key: number, n: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    let i = slotOf(key, this.mask);
    while (keys[i] === keys[i]) i = (i + 1) & this.mask;
    keys[i] = key;
    this.counts[i] = n;
    this.size++;
  }

  /** Empties the table, keeping its arrays. */
  clear(): void {
    this.keys.fill(Number.NaN);
    this.counts.fill(0);
    this.size = 0;
  }

  get(key: number): number | undefined {
    const keys = this.keys;
    for (let i = slotOf(key, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i] as number;
      if (k === key) return this.counts[i];
      if (k !== k) return undefined;
    }
  }

  private grow(): void {
    const { keys, counts } = this;
    const bigger = new NumberTable(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === k) bigger.insert(k, counts[i] as number);
    }
    this.keys = bigger.keys;
    this.counts = bigger.counts;
    this.mask = bigger.mask;
  }
}

/** Home slot of a key: its low and high 32 bits mixed (keys may be int32 or up to 2^53). */
function slotOf(key: number, mask: number): number {
  const h = Math.imul((key | 0) ^ ((key / 4294967296) | 0), 0x9e3779b1);
  return (h ^ (h >>> 15)) & mask;
}
