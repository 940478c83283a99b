// Input gradient through a frozen base weight: dX[M, K] (= or +=) dY[M, N] · W[N, K], W a GpuWeight
// in f32 / f16 / q8 / q4 (decoded by the engine's w_quad WGSL, shared with the forward matmul).
// The base weight never gets a gradient (training is LoRA-only), and a bias has no effect on dX.
//
// The tile loop is the forward's (engine/ops/gemm-tile.ts) with A = dY [M, N], B = W [N, K]: a
// 64 (rows of dX) × 64 (columns k) tile per workgroup, walking the weight's rows n in steps of 16.
// W is staged along its columns: a weight quad (4 consecutive k of one row n) is decoded once.
// One dispatch per weight chunk: chunk c adds its rows' share Σ_{n in chunk} dY[m, n]·W[n, k]; the first chunk writes (unless
// accumulate) and later ones add, so dispatch order inside the pass sums the chunks.
//
// dY may be a strided view (offset + row stride, e.g. a fused output or a logits matrix), and when
// it exceeds one storage binding (logits: rows × vocab) it is bound in row chunks with
// softmax.ts's rowChunks; each row chunk writes its own dX rows.
import type { GpuContext } from '../../engine/gpu/context';
import { gemmTileGroups, gemmTileWgsl } from '../../engine/ops/gemm-tile';
import { rowChunks } from '../../engine/ops/softmax';
import { weightWgsl } from '../../engine/ops/matmul-weight-wgsl';
import { hasScales, paddedCols, type WeightFormat } from '../../engine/quant/formats';
import type { GpuWeight } from '../../engine/weights';

export interface MatmulBackwardArgs {
  /** f32 gradient of the matmul output: row m of dY starts at dyOffset + m·dyRowStride. */
  dy: GPUBuffer;
  /** Default weight.rows (contiguous [M, N]). */
  dyRowStride?: number;
  /** Element offset of dY[0, 0]; default 0. */
  dyOffset?: number;
  weight: GpuWeight;
  /** f32 [m, K] contiguous. */
  dx: GPUBuffer;
  m: number;
  /** dX += dY·W instead of dX = dY·W. */
  accumulate?: boolean;
  /** Largest dY binding in bytes; defaults to the device limit (tests set it small). */
  maxChunkBytes?: number;
}

export function matmulBackwardWgsl(format: WeightFormat, k: number, shaderF16: boolean): string {
  const kp = paddedCols(k);
  const weight = weightWgsl(format, k, { data: 1, scales: hasScales(format) ? 4 : -1 }, shaderF16);
  return /* wgsl */ `${weight.enable}
struct Params { rows: u32, row_start: u32, m: u32, accumulate: u32, dy_offset: u32, dy_stride: u32, dx_row0: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${weight.code}

const K = ${k}u;
const QUADS = ${kp / 4}u;
${gemmTileWgsl({
  m: 'params.m',
  n: 'K',
  k: 'params.rows',
  loadA:
    'for (var q = 0u; q < 4u; q++) { if (a_k + q < params.rows) { quad[q] = dy[params.dy_offset + a_row * params.dy_stride + params.row_start + a_k + q]; } }',
  // One decoded weight quad: 4 consecutive columns k of weight row b_k (zero past the padded row).
  loadB: { along: 'n', code: 'if (b_col / 4u < QUADS) { quad = w_quad(b_k, b_col / 4u); }' },
  store: `let o = (params.dx_row0 + i) * K + j;
        var prior = 0.0;
        if (params.accumulate != 0u) { prior = dx[o]; }
        dx[o] = prior + value;`,
})}`;
}

function check(args: MatmulBackwardArgs): { dyRowStride: number; dyOffset: number } {
  const { weight: w, m } = args;
  const name = `matmulBackward(${w.name})`;
  const dyRowStride = args.dyRowStride ?? w.rows;
  const dyOffset = args.dyOffset ?? 0;
  if (!Number.isInteger(m) || m < 1) throw new Error(`${name}: m = ${m} must be a positive integer`);
  if (!Number.isInteger(dyRowStride) || dyRowStride < w.rows) throw new Error(`${name}: dY row stride ${dyRowStride} must be an integer ≥ N = ${w.rows}`);
  if (!Number.isInteger(dyOffset) || dyOffset < 0) throw new Error(`${name}: dY offset ${dyOffset} must be a non-negative integer`);
  const dyReach = dyOffset + (m - 1) * dyRowStride + w.rows;
  if (args.dy.size < dyReach * 4) throw new Error(`${name}: dY holds ${args.dy.size / 4} f32 values, ${m} rows of stride ${dyRowStride} reach ${dyReach}`);
  if (args.dx.size < m * w.cols * 4) throw new Error(`${name}: dX holds ${args.dx.size / 4} f32 values, needs ${m}×${w.cols}`);
  if (args.dx === args.dy) throw new Error(`${name}: dX must be a separate buffer from dY`);
  if (w.chunks.length === 0) throw new Error(`${name}: weight has no chunks (destroyed?)`);
  return { dyRowStride, dyOffset };
}

/** Records dX (+)= dY·W: one dispatch per (dY row chunk, weight chunk). */
export function encodeMatmulBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: MatmulBackwardArgs) {
  const { dyRowStride, dyOffset } = check(args);
  const { weight, m } = args;
  const pipeline = ctx.pipeline(matmulBackwardWgsl(weight.format, weight.cols, ctx.shaderF16));
  const alignment = ctx.device.limits.minStorageBufferOffsetAlignment;
  const maxBytes = Math.min(args.maxChunkBytes ?? ctx.maxBindingBytes, ctx.maxBindingBytes);
  // Row chunks of the dY view: rows are dyRowStride apart, starting at element dyOffset.
  const startByte = dyOffset * 4;
  const base = startByte - (startByte % alignment);
  let chunks: ReturnType<typeof rowChunks>;
  try {
    chunks = rowChunks(m, dyRowStride, maxBytes - (startByte - base), alignment);
  } catch (error) {
    throw new Error(`matmulBackward(${weight.name}): dY ${(error as Error).message}`);
  }
  for (const rows of chunks) {
    const bindOffset = base + rows.byteOffset;
    const shift = rows.elementShift + (startByte - base) / 4;
    // The last row only needs N values, not a whole stride: bind no further than the buffer's end.
    const size = Math.min(rows.byteSize + (startByte - base), args.dy.size - bindOffset);
    const dy = { buffer: args.dy, offset: bindOffset, size };
    weight.chunks.forEach((chunk, c) => {
      const accumulate = args.accumulate || c > 0 ? 1 : 0;
      const bindings: (GPUBuffer | { buffer: GPUBuffer; offset: number; size: number })[] = [
        dy,
        chunk.data,
        args.dx,
        ctx.params([chunk.rows, chunk.rowStart, rows.rows, accumulate, shift, dyRowStride, rows.firstRow]),
      ];
      if (chunk.scales) bindings[4] = chunk.scales;
      ctx.dispatch(pass, pipeline, bindings, gemmTileGroups(rows.rows, weight.cols));
    });
  }
}

/** CPU reference: dX[m, K] = dY[m, N]·W (+ into), W the dequantized [N, K] values, float64 sums. */
export function matmulBackwardCpu(dy: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number, into?: ArrayLike<number>): Float64Array {
  if (w.length !== n * k) throw new Error(`matmulBackwardCpu: weight has ${w.length} values, expected ${n}×${k}`);
  if (dy.length < m * n) throw new Error(`matmulBackwardCpu: dY has ${dy.length} values, needs ${m}×${n}`);
  const dx = into ? Float64Array.from(into) : new Float64Array(m * k);
  for (let r = 0; r < m; r++) {
    for (let c = 0; c < n; c++) {
      const g = dy[r * n + c];
      for (let i = 0; i < k; i++) dx[r * k + i] += g * w[c * k + i];
    }
  }
  return dx;
}
