// The serial (barrier-free) GEMV against the parallel one it stands in for on CPU-emulated GPUs:
// equal bit for bit (it performs the same additions in the same order), and against the CPU
// reference. Odd shapes whose K gives 4 to 64 lanes (K = 1000: several blocks per lane), row
// counts 1..8, every weight format, bias, accumulate and indexed x rows; each shape runs in one
// format (the formats differ only in w_quad, which both kernels share) to keep shader compiles few.
import { describe, expect, it } from 'vitest';
import { encodeMatmul, matmulCpu, type MatmulKernel } from '../../../src/engine/ops/matmul';
import { gemvLanes } from '../../../src/engine/ops/matmul-gemv';
import { nmse, randomArray } from '../../helpers/numeric';
import { KERNEL_NMSE, makeWeight, runPass, testContext } from './matmul-harness';

const CASES = [
  { format: 'f32', m: 1, n: 5, k: 8, accumulate: false },
  { format: 'q4', m: 1, n: 203, k: 24, accumulate: true },
  { format: 'q8', m: 3, n: 67, k: 161, accumulate: false },
  { format: 'f32', m: 1, n: 130, k: 96, accumulate: true },
  { format: 'f16', m: 8, n: 9, k: 100, accumulate: true },
  { format: 'q4', m: 5, n: 131, k: 256, accumulate: false },
  { format: 'q8', m: 2, n: 9, k: 1000, accumulate: true },
] as const;

describe('serial GEMV', () => {
  it.each(CASES)(
    'equals the parallel GEMV bit for bit and the CPU reference: $format M=$m N=$n K=$k accumulate=$accumulate',
    async ({ format, m, n, k, accumulate }) => {
      const ctx = await testContext();
      const seed = n * 7 + k;
      const w = makeWeight(ctx, format, n, k, seed);
      const xRows = Array.from({ length: m }, (_, r) => (r * 5 + 2) % (m + 3)); // indexed, repeated rows allowed
      const x = randomArray((m + 3) * k, seed + 1);
      const bias = randomArray(n, seed + 2);
      const prior = randomArray(m * n, seed + 3);
      const xBuf = ctx.upload('x', x, 'activations');
      const biasBuf = ctx.upload('bias', bias, 'weights');
      const indices = ctx.upload('rows', new Uint32Array(xRows), 'scratch');
      const run = async (kernel: MatmulKernel, accumulate: boolean) => {
        const y = ctx.upload('y', prior, 'activations');
        return runPass(ctx, y, m * n * 4, (pass) =>
          encodeMatmul(ctx, pass, { x: xBuf, weight: w.gpu, y, m, bias: biasBuf, accumulate, xRows: { indices }, kernel }),
        );
      };
      const serial = await run('gemv-serial', accumulate);
      const parallel = await run('gemv', accumulate);
      expect(Array.from(serial), `${gemvLanes(k)} lanes`).toEqual(Array.from(parallel));
      const expected = matmulCpu(x, w.dequantized, m, n, k, { bias, xRows, into: accumulate ? prior : undefined });
      expect(nmse(serial, expected)).toBeLessThan(KERNEL_NMSE);
    },
  );
});

describe('matmul kernel choice', () => {
  it('prefers the serial GEMV on a CPU-emulated adapter and leaves rows beyond the weight untouched', async () => {
    const ctx = await testContext();
    const w = makeWeight(ctx, 'f32', 5, 32, 3);
    const y = ctx.upload('y', new Float32Array(8).fill(7), 'activations');
    const got = await runPass(ctx, y, 8 * 4, (pass) =>
      encodeMatmul(ctx, pass, { x: ctx.upload('x', randomArray(32, 4), 'activations'), weight: w.gpu, y, m: 1 }),
    );
    expect(Array.from(got.slice(5))).toEqual([7, 7, 7]);
    expect(typeof ctx.preferBarrierFree).toBe('boolean');
  });
});
