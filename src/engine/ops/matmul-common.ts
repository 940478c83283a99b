// Pieces shared by the two matmul kernels (GEMV for decode, tiled for prefill): the binding layout,
// the per-dispatch parameters and the WGSL that addresses x rows and writes y.
import { hasScales, type WeightFormat } from '../quant/formats';
import { weightWgsl } from './matmul-weight-wgsl';

/** Static facts baked into a matmul shader (pipelines are cached by source). */
export interface MatmulShape {
  format: WeightFormat;
  /** K (x row length, weight columns). */
  k: number;
  /** N of the whole weight: y's row stride. */
  n: number;
  hasBias: boolean;
  accumulate: boolean;
  /** x rows come from a u32 index buffer instead of offset + r·stride. */
  indexedRows: boolean;
  shaderF16: boolean;
}

/** @binding numbers; ctx.dispatch wants the buffers in this order. */
export interface MatmulBindings {
  x: 0;
  data: 1;
  y: 2;
  params: 3;
  scales: number;
  bias: number;
  rowIndex: number;
}

export function matmulBindings(shape: MatmulShape): MatmulBindings {
  let next = 4;
  const scales = hasScales(shape.format) ? next++ : -1;
  const bias = shape.hasBias ? next++ : -1;
  const rowIndex = shape.indexedRows ? next++ : -1;
  return { x: 0, data: 1, y: 2, params: 3, scales, bias, rowIndex };
}

/** Per-dispatch parameters (one uniform buffer per chunk, cached by value). */
export function matmulParams(chunkRows: number, rowStart: number, xOffset: number, xStride: number, m: number): number[] {
  return [chunkRows, rowStart, xOffset, xStride, m];
}

/**
 * Header for a matmul shader: params, x, y, weight, optional bias and row indices, plus
 * `x_row_base(r)` (first x element of output row r) and `store(r, n, value)` (n local to the chunk).
 * `xType` lets GEMV bind x as vec4 when K is a multiple of 4.
 */
export function matmulHeader(shape: MatmulShape, xType: 'f32' | 'vec4<f32>'): { enable: string; code: string } {
  const b = matmulBindings(shape);
  const weight = weightWgsl(shape.format, shape.k, { data: b.data, scales: b.scales }, shape.shaderF16);
  const xScale = xType === 'f32' ? shape.k : shape.k / 4;
  const biasTerm = shape.hasBias ? ' + bias[params.row_start + n]' : '';
  const prior = shape.accumulate ? 'y[i] + ' : '';
  const code = /* wgsl */ `
struct Params { rows: u32, row_start: u32, x_offset: u32, x_stride: u32, m: u32 }
@group(0) @binding(${b.x}) var<storage, read> x: array<${xType}>;
@group(0) @binding(${b.y}) var<storage, read_write> y: array<f32>;
@group(0) @binding(${b.params}) var<uniform> params: Params;
${shape.hasBias ? `@group(0) @binding(${b.bias}) var<storage, read> bias: array<f32>;` : ''}
${shape.indexedRows ? `@group(0) @binding(${b.rowIndex}) var<storage, read> row_index: array<u32>;` : ''}
${weight.code}

const K = ${shape.k}u;
const N = ${shape.n}u;

// Index (in x's element type) of the first element of the x row used for output row r.
fn x_row_base(r: u32) -> u32 {
  return ${shape.indexedRows ? 'row_index[r]' : '(params.x_offset + r * params.x_stride)'} * ${xScale}u;
}

// Writes output row r, chunk-local column n.
fn store(r: u32, n: u32, value: f32) {
  let i = r * N + params.row_start + n;
  y[i] = ${prior}value${biasTerm};
}`;
  return { enable: weight.enable, code };
}
