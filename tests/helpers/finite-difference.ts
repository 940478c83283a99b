// Central-difference gradient checks in float64 for the CPU references of backward kernels.
//
// Typical use: for a forward op y = f(x) and its backward dX = B(x, dY), pick a random g and the
// scalar L(x) = Σ g ⊙ f(x); then dL/dx = B(x, g). Compare B(x, g) (analytic) against
// finiteDifferenceGrad(L, x) (numeric) with expectGradClose.
//
// Forward functions passed here must compute in float64 (no Math.fround, no Float32Array round
// trips), or the rounding noise (~1e-7 / h) swamps the difference quotient.
import { expect } from 'vitest';
import { seededRandom } from './numeric';

/** Numeric gradient of a scalar function: (f(x + h·e_i) − f(x − h·e_i)) / 2h for every i. */
export function finiteDifferenceGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const original = probe[i];
    probe[i] = original + h;
    const plus = f(probe);
    probe[i] = original - h;
    const minus = f(probe);
    probe[i] = original;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** Σ g ⊙ y: the random linear functional whose gradient w.r.t. y is g. */
export function dot(g: ArrayLike<number>, y: ArrayLike<number>): number {
  if (g.length !== y.length) throw new Error(`dot: lengths ${g.length} and ${y.length} differ`);
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += g[i] * y[i];
  return sum;
}

/** `n` float64 values uniform in [-scale, scale), seeded. */
export function randomFloat64(n: number, seed: number, scale = 1): Float64Array {
  const rand = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

export interface GradTolerance {
  /** Relative tolerance against |numeric|; default 1e-5. */
  rtol?: number;
  /** Absolute tolerance; default 1e-7. */
  atol?: number;
}

/**
 * Indices where |analytic − numeric| > atol + rtol·|numeric| (NaN counts as a mismatch).
 * Exported so tests can also assert that a deliberately wrong gradient IS caught.
 */
export function gradMismatches(analytic: ArrayLike<number>, numeric: ArrayLike<number>, tolerance: GradTolerance = {}): number[] {
  if (analytic.length !== numeric.length) throw new Error(`gradient lengths differ: analytic ${analytic.length}, numeric ${numeric.length}`);
  const rtol = tolerance.rtol ?? 1e-5;
  const atol = tolerance.atol ?? 1e-7;
  const bad: number[] = [];
  for (let i = 0; i < numeric.length; i++) {
    const diff = Math.abs(analytic[i] - numeric[i]);
    if (!(diff <= atol + rtol * Math.abs(numeric[i]))) bad.push(i);
  }
  return bad;
}

/** Fails the test, naming the first few bad indices, unless every entry is within tolerance. */
export function expectGradClose(analytic: ArrayLike<number>, numeric: ArrayLike<number>, tolerance: GradTolerance = {}) {
  const bad = gradMismatches(analytic, numeric, tolerance);
  const shown = bad.slice(0, 5).map((i) => `[${i}] analytic ${analytic[i]} vs numeric ${numeric[i]}`);
  expect(bad.length, `gradient mismatch at ${bad.length} of ${numeric.length} entries: ${shown.join('; ')}`).toBe(0);
  // A vacuous check (all-zero gradients) would pass any backward: make sure there is signal.
  let norm = 0;
  for (let i = 0; i < numeric.length; i++) norm = Math.max(norm, Math.abs(numeric[i]));
  expect(norm, 'numeric gradient is identically zero: the check would not catch a wrong backward').toBeGreaterThan(0);
}
