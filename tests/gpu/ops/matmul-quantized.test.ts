import { describe, expect, it } from 'vitest';
import { matmulCpu } from '../../../src/engine/ops/matmul';
import { nmse } from '../../helpers/numeric';
import { checkMatmul, KERNEL_NMSE, MATMUL_CASES } from './matmul-harness';

// The quantized formats through both matmul kernels (f32/f16 and the options: matmul.test.ts).
describe.each(['q8', 'q4'] as const)('matmul with %s weights', (format) => {
  it.each(MATMUL_CASES)('matches the CPU reference for M=$m N=$n K=$k bias=$bias kernel=$kernel', async (c) => {
    const { got, expected } = await checkMatmul(format, c, c.n * 10 + c.k);
    expect(nmse(got, expected)).toBeLessThan(KERNEL_NMSE);
  });
});

describe('quantization error through matmul', () => {
  // Against the ORIGINAL f32 weights: the output error is the weight quantization error seen
  // through random x. Weight NMSE for uniform data is 1/(4·levels²) (q8 1.6e-5, q4 5.1e-3, see
  // tests/unit/quant.test.ts) and independent errors carry over to dot products at the same
  // relative level, so the bounds are q8 1e-4, q4 1.5e-2, f16 1e-6 (11-bit mantissas).
  it.each([
    ['f16', 1e-6],
    ['q8', 1e-4],
    ['q4', 1.5e-2],
  ] as const)('%s output NMSE vs f32 weights stays below %f', async (format, bound) => {
    const { got, w, x, bias } = await checkMatmul(format, { m: 3, n: 67, k: 161, bias: true }, 61);
    const exact = matmulCpu(x, w.original, 3, 67, 161, { bias });
    const error = nmse(got, exact);
    expect(error).toBeLessThan(bound);
    expect(error).toBeGreaterThan(0); // the quantized path really is approximate
  });
});
