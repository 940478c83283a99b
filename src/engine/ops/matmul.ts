// Matmul with a packed weight: y[M, N] = x·Wᵀ (+ bias) (or y += …), W = GpuWeight [N, K] in
// f32 / f16 / q8 / q4, x and y f32. One dispatch per weight chunk; chunk c writes columns
// rowStart..rowStart+rows of y. Small M (decode) uses the GEMV kernel (its barrier-free serial
// variant on CPU-emulated GPUs: same values, see matmul-gemv.ts), larger M the tiled one.
//
// Output row r reads x row `xRows.offset + r·xRows.stride` (default offset 0, stride 1), or
// `indices[r]` from a u32 buffer: the LM head uses this to compute logits only for the last
// position of each sequence.
import { ceilDiv, type GpuContext } from '../gpu/context';
import type { GpuWeight } from '../weights';
import { matmulBindings, matmulParams, type MatmulShape } from './matmul-common';
import { GEMV_MAX_M, gemvColumnsPerWorkgroup, gemvRowCapacity, gemvSerialColumnsPerWorkgroup, gemvSerialWgsl, gemvWgsl } from './matmul-gemv';
import { TILE, tiledWgsl } from './matmul-tiled';

export { GEMV_MAX_M } from './matmul-gemv';

export type MatmulKernel = 'auto' | 'gemv' | 'gemv-serial' | 'tiled';

export type XRows = { offset: number; stride: number } | { indices: GPUBuffer };

export interface MatmulArgs {
  /** f32 activations, rows of K values. */
  x: GPUBuffer;
  weight: GpuWeight;
  /** f32 [m, N]. */
  y: GPUBuffer;
  /** Output rows. */
  m: number;
  /** f32 [N], or none. */
  bias?: GPUBuffer | null;
  /** y += x·Wᵀ (+ bias) instead of y = …: for residual adds and LoRA. */
  accumulate?: boolean;
  /** Which x row feeds output row r; default r. */
  xRows?: XRows;
  /**
   * Force a kernel (tests); 'auto' picks GEMV for m ≤ GEMV_MAX_M (the serial GEMV when the context
   * prefers barrier-free kernels), else tiled.
   */
  kernel?: MatmulKernel;
}

function check(args: MatmulArgs) {
  const { weight: w, m } = args;
  const name = `matmul(${w.name})`;
  if (!Number.isInteger(m) || m < 1) throw new Error(`${name}: m = ${m} must be a positive integer`);
  if (args.y.size < m * w.rows * 4) throw new Error(`${name}: y holds ${args.y.size} bytes, needs ${m}×${w.rows} f32 (${m * w.rows * 4})`);
  if (args.bias && args.bias.size < w.rows * 4) throw new Error(`${name}: bias holds ${args.bias.size} bytes, needs ${w.rows} f32`);
  const rows = args.xRows;
  if (rows && 'indices' in rows) {
    if (rows.indices.size < m * 4) throw new Error(`${name}: row indices hold ${rows.indices.size} bytes, need ${m} u32`);
  } else {
    const offset = rows?.offset ?? 0;
    const stride = rows?.stride ?? 1;
    if (!Number.isInteger(offset) || !Number.isInteger(stride) || offset < 0 || stride < 0)
      throw new Error(`${name}: x row offset ${offset} / stride ${stride} must be non-negative integers`);
    const lastRow = offset + (m - 1) * stride;
    if (args.x.size < (lastRow + 1) * w.cols * 4) throw new Error(`${name}: x holds ${args.x.size} bytes, needs row ${lastRow} of ${w.cols} f32`);
  }
  if ((args.kernel === 'gemv' || args.kernel === 'gemv-serial') && m > GEMV_MAX_M)
    throw new Error(`${name}: the GEMV kernel handles m ≤ ${GEMV_MAX_M}, got ${m}`);
  if (w.chunks.length === 0) throw new Error(`${name}: weight has no chunks (destroyed?)`);
}

/** Records the matmul into `pass` (one dispatch per weight chunk). */
export function encodeMatmul(ctx: GpuContext, pass: GPUComputePassEncoder, args: MatmulArgs) {
  check(args);
  const { weight, m } = args;
  const indices = args.xRows && 'indices' in args.xRows ? args.xRows.indices : null;
  const offset = args.xRows && 'offset' in args.xRows ? args.xRows.offset : 0;
  const stride = args.xRows && 'stride' in args.xRows ? args.xRows.stride : 1;
  const shape: MatmulShape = {
    format: weight.format,
    k: weight.cols,
    n: weight.rows,
    hasBias: !!args.bias,
    accumulate: !!args.accumulate,
    indexedRows: !!indices,
    shaderF16: ctx.shaderF16,
  };
  const requested = args.kernel ?? 'auto';
  const kernel = requested !== 'auto' ? requested : m > GEMV_MAX_M ? 'tiled' : ctx.preferBarrierFree ? 'gemv-serial' : 'gemv';
  const pipeline = ctx.pipeline(
    kernel === 'gemv' ? gemvWgsl(shape, gemvRowCapacity(m)) : kernel === 'gemv-serial' ? gemvSerialWgsl(shape, gemvRowCapacity(m)) : tiledWgsl(shape),
  );
  const columnsPerWorkgroup = kernel === 'gemv' ? gemvColumnsPerWorkgroup(weight.cols) : gemvSerialColumnsPerWorkgroup();
  const b = matmulBindings(shape);
  const maxGroups = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  for (const chunk of weight.chunks) {
    const bindings: GPUBuffer[] = [args.x, chunk.data, args.y, ctx.params(matmulParams(chunk.rows, chunk.rowStart, offset, stride, m))];
    if (b.scales >= 0) bindings[b.scales] = chunk.scales!;
    if (b.bias >= 0) bindings[b.bias] = args.bias!;
    if (b.rowIndex >= 0) bindings[b.rowIndex] = indices!;
    if (kernel !== 'tiled') {
      const groups = ceilDiv(chunk.rows, columnsPerWorkgroup);
      const x = Math.min(groups, maxGroups);
      ctx.dispatch(pass, pipeline, bindings, [x, ceilDiv(groups, x)]);
    } else {
      ctx.dispatch(pass, pipeline, bindings, [ceilDiv(chunk.rows, TILE), ceilDiv(m, TILE)]);
    }
  }
}

/**
 * CPU reference: y[m, N] = x[rows(r)]·Wᵀ + bias, W f32 [N, K] row-major (for quantized weights pass
 * the dequantized values). `xRows[r]` picks the x row for output r (default r); `into` is added to.
 */
export function matmulCpu(
  x: Float32Array,
  w: Float32Array,
  m: number,
  n: number,
  k: number,
  options: { bias?: Float32Array | null; xRows?: number[]; into?: Float32Array } = {},
): Float32Array {
  if (w.length !== n * k) throw new Error(`matmulCpu: weight has ${w.length} values, expected ${n}×${k}`);
  const y = options.into ? Float32Array.from(options.into) : new Float32Array(m * n);
  if (y.length !== m * n) throw new Error(`matmulCpu: output has ${y.length} values, expected ${m}×${n}`);
  for (let r = 0; r < m; r++) {
    const xr = options.xRows ? options.xRows[r] : r;
    if ((xr + 1) * k > x.length) throw new Error(`matmulCpu: x row ${xr} is out of range`);
    for (let c = 0; c < n; c++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[xr * k + i] * w[c * k + i];
      y[r * n + c] += sum + (options.bias ? options.bias[c] : 0);
    }
  }
  return y;
}
