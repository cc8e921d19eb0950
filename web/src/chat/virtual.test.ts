import { describe, expect, it } from "vitest";
import { offsetsOf, rowAt, windowOf } from "./virtual";

describe("virtual window", () => {
  const offsets = offsetsOf(10_000, (i) => (i % 10 === 0 ? 30 : 50));
  it("sums heights", () => {
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBe(30);
    expect(offsets[10]).toBe(30 + 9 * 50);
    expect(offsets.length).toBe(10_001);
  });
  it.each([
    [-100, 0],
    [0, 0],
    [29, 0],
    [30, 1],
    [79, 1],
    [80, 2],
    [1e9, 9_999],
  ])("row at y=%d is %d", (y, want) => expect(rowAt(offsets, y)).toBe(want));
  it("renders only the rows near the viewport", () => {
    const [s, e] = windowOf(offsets, 100_000, 800, 400);
    expect(e - s).toBeLessThan(40);
    expect(offsets[s]).toBeLessThanOrEqual(100_000 - 400);
    expect(offsets[e]).toBeGreaterThanOrEqual(100_800 + 400);
  });
  it("handles an empty list", () => {
    expect(windowOf(offsetsOf(0, () => 1), 0, 800, 400)).toEqual([0, 0]);
  });
});
