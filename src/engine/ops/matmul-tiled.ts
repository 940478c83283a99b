// Tiled matmul for prefill (many rows M): y[r, n] = x[r]·W[n] over one weight chunk, i.e. the
// shared tile loop (gemm-tile.ts) with A = x [M, K] and B = Wᵀ [K, chunk rows].
//
// W is staged along k: each thread decodes one weight quad (4 consecutive k of one row) while
// staging, so the inner loop is plain f32 FMAs whatever the format. Tiles along K never cross the
// padded row end (Kp is a multiple of 32), so the weight needs no bound checks; x beyond K reads
// as zero.
import { GEMM_TILE, gemmTileWgsl } from './gemm-tile';
import type { MatmulShape } from './matmul-common';
import { matmulHeader } from './matmul-common';
import { paddedCols } from '../quant/formats';

export const TILE = GEMM_TILE;

export function tiledWgsl(shape: MatmulShape): string {
  const header = matmulHeader(shape, 'f32');
  const kp = paddedCols(shape.k);
  const kGuard = kp !== shape.k ? 'if (a_k + q < K) ' : '';
  const tile = gemmTileWgsl({
    m: 'params.m',
    n: 'params.rows',
    k: 'KP',
    // The x row of this thread's staging row: found once (it may come from a row-index buffer).
    setup: 'var x_base = 0u;\n  if (a_row < params.m) { x_base = x_row_base(a_row); }',
    loadA: `for (var q = 0u; q < 4u; q++) { ${kGuard}{ quad[q] = x[x_base + a_k + q]; } }`,
    loadB: { along: 'k', code: 'quad = w_quad(b_col, b_k / 4u);' },
    store: 'store(i, j, value);',
  });
  return /* wgsl */ `${header.enable}
${header.code}

const KP = ${kp}u;
${tile}`;
}
