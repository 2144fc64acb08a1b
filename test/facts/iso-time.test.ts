import { describe, expect, it } from "vitest";
import { parseIsoTime } from "../../src/facts/iso-time.js";

const same = (s: string): void => {
  const want = Date.parse(s);
  const got = parseIsoTime(s);
  expect(Number.isNaN(got) ? "NaN" : got, s).toEqual(Number.isNaN(want) ? "NaN" : want);
};

describe("parseIsoTime", () => {
  it("reads the kernel logs' ISO shapes as Date.parse does", () => {
    expect(parseIsoTime("2026-11-22T07:23:32.000000+00:00")).toBe(Date.UTC(2026, 10, 22, 7, 23, 32));
    expect(parseIsoTime("2026-11-22T07:23:32.9999+01:00")).toBe(Date.UTC(2026, 10, 22, 6, 23, 32, 999)); // cut, not rounded
    expect(parseIsoTime("2026-11-22T07:23:32.5-0130")).toBe(Date.UTC(2026, 10, 22, 8, 53, 32, 500));
    expect(parseIsoTime("2026-11-22T07:23:32Z")).toBe(Date.UTC(2026, 10, 22, 7, 23, 32));
  });

  it("leaves every other shape to Date.parse, with its answer", () => {
    for (const s of [
      "2026-11-22T07:23:32", // local time
      "2026-02-30T00:00:00Z", // rolls over into March
      "2026-11-22T24:00:00Z",
      "2026-11-22T07:23:60Z",
      "2026-11-22T07:23:32.1234567891234+00:00",
      "2026-11-22T07:23:32.Z",
      "2026-11-22T07:23:32+01",
      "2026-11-22T07:23:32+24:00",
      "2026-11-22 07:23:32Z",
      "0050-11-22T07:23:32Z",
      "20x6-11-22T07:23:32Z",
      "Nov 22 07:23:32",
      "",
    ])
      same(s);
  });

  it("agrees with Date.parse on generated times, valid and not", () => {
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const two = (n: number): string => String(rnd(n)).padStart(2, "0");
    const zones = ["Z", "", "+00:00", "-00:00", `+${two(26)}:${two(61)}`, `-${two(26)}${two(61)}`, "z"];
    for (let i = 0; i < 20_000; i++) {
      const fraction = rnd(3) === 0 ? "" : `.${String(rnd(1e9)).slice(0, 1 + rnd(10))}`;
      same(`${String(rnd(3000)).padStart(4, "0")}-${two(14)}-${two(33)}T${two(26)}:${two(61)}:${two(62)}${fraction}${zones[rnd(zones.length)]}`);
    }
  });
});
