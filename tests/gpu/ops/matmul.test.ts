// f32 and f16 weights through both matmul kernels (q8/q4: matmul-quantized.test.ts, options:
// matmul-options.test.ts).
import { describe, expect, it } from 'vitest';
import { nmse } from '../../helpers/numeric';
import { checkMatmul, KERNEL_NMSE, MATMUL_CASES } from './matmul-harness';

describe.each(['f32', 'f16'] as const)('matmul with %s weights', (format) => {
  it.each(MATMUL_CASES)('matches the CPU reference for M=$m N=$n K=$k bias=$bias kernel=$kernel', async (c) => {
    const { got, expected } = await checkMatmul(format, c, c.n * 10 + c.k);
    expect(nmse(got, expected)).toBeLessThan(KERNEL_NMSE);
  });
});
