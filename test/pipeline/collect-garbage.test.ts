import { describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/pipeline/collect-garbage.js";

describe("collectGarbage", () => {
  it("frees unreachable memory at once, without --expose-gc on the command line", () => {
    let garbage: number[][] | undefined = Array.from({ length: 400 }, () => Array.from({ length: 25_000 }, (_, i) => i + 0.5));
    const withGarbage = process.memoryUsage().heapUsed;
    expect(garbage.length).toBe(400);
    garbage = undefined;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    // 400 × 25,000 doubles is ~80 MB of heap; most of it must be gone.
    expect(withGarbage - after).toBeGreaterThan(50 * 1024 ** 2);
  });
});
