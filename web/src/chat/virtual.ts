// Windowing for the timeline: only rows near the viewport are rendered, the
// rest is stood in for by two spacers sized from measured (or estimated)
// row heights. Pure functions, unit tested.

/** offsetsOf returns n+1 prefix sums: offsets[i] is the top of row i. */
export function offsetsOf(n: number, height: (i: number) => number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) out[i + 1] = out[i] + height(i);
  return out;
}

/** rowAt: the index of the row covering y (clamped to [0, n-1]; 0 when empty). */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid] <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** windowOf: the [start, end) rows to render for a viewport plus overscan. */
export function windowOf(offsets: Float64Array, top: number, height: number, overscan: number): [number, number] {
  const n = offsets.length - 1;
  if (n <= 0) return [0, 0];
  return [rowAt(offsets, top - overscan), Math.min(n, rowAt(offsets, top + height + overscan) + 1)];
}
