// The strided GEMM behind every LoRA product (src/engine/ops/lora-gemm.ts), both kernels: tiled
// (GPUs) and serial (barrier-free, the default on SwiftShader), against an f64 CPU reference on odd
// shapes with offsets, transposed views (swapped strides), alpha and accumulate.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { encodeLoraGemm, type StridedView } from '../../../src/engine/ops/lora-gemm';
import { getTestDevice } from '../../helpers/gpu';
import { nmse, randomArray } from '../../helpers/numeric';

interface View {
  offset: number;
  rowStride: number;
  colStride: number;
}

function gemmCpu(
  lhs: Float32Array,
  l: View,
  rhs: Float32Array,
  r: View,
  out: Float32Array,
  c: View,
  m: number,
  n: number,
  p: number,
  alpha: number,
  accumulate: boolean,
) {
  const result = Float64Array.from(out);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let q = 0; q < p; q++) sum += lhs[l.offset + i * l.rowStride + q * l.colStride] * rhs[r.offset + q * r.rowStride + j * r.colStride];
      const o = c.offset + i * c.rowStride + j * c.colStride;
      result[o] = (accumulate ? out[o] : 0) + alpha * sum;
    }
  return result;
}

// [m, n, p]: skinny u = x·Aᵀ (n = r), y += u·Bᵀ (p = r), dB = dyᵀ·u (p = tokens), a 1×1×1 edge.
const SHAPES: [number, number, number][] = [
  [37, 8, 29],
  [70, 45, 5],
  [9, 3, 131],
  [1, 1, 1],
];

describe('LoRA strided GEMM', () => {
  it.each((['tiled', 'serial'] as const).flatMap((kernel) => SHAPES.map(([m, n, p]) => ({ kernel, m, n, p }))))(
    '$kernel kernel matches f64: m=$m n=$n p=$p (transposed rhs, offsets, alpha, accumulate)',
    async ({ kernel, m, n, p }) => {
      const ctx = new GpuContext((await getTestDevice()).device);
      const l: View = { offset: 3, rowStride: p + 2, colStride: 1 };
      const r: View = { offset: 1, rowStride: 1, colStride: p + 1 }; // Aᵀ-style: rows of the stored matrix are columns here
      const c: View = { offset: 2, rowStride: n + 3, colStride: 1 };
      const lhs = randomArray(l.offset + m * l.rowStride, m + n, 1);
      const rhs = randomArray(r.offset + n * r.colStride, p + 7, 1);
      const out = randomArray(c.offset + m * c.rowStride, 5, 1);
      for (const accumulate of [false, true]) {
        const outBuf = ctx.upload('out', out, 'scratch');
        const view = (buffer: GPUBuffer, v: View): StridedView => ({ buffer, ...v });
        const encoder = ctx.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        encodeLoraGemm(ctx, pass, {
          lhs: view(ctx.upload('lhs', lhs, 'scratch'), l),
          rhs: view(ctx.upload('rhs', rhs, 'scratch'), r),
          out: view(outBuf, c),
          m,
          n,
          p,
          alpha: 0.75,
          accumulate,
          kernel,
        });
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
        const got = new Float32Array(await ctx.read(outBuf));
        const want = gemmCpu(lhs, l, rhs, r, out, c, m, n, p, 0.75, accumulate);
        expect(nmse(got, want)).toBeLessThan(1e-11);
        // Elements outside the output view (offset, row padding) are untouched.
        got.forEach((v, i) => {
          const inView = i >= c.offset && (i - c.offset) % c.rowStride < n && i < c.offset + m * c.rowStride;
          if (!inView) expect(v).toBe(out[i]);
        });
      }
    },
  );
});
