// GpuWeight: a 2-D weight [rows N, cols K] on the GPU in one of the packed formats of
// quant/formats.ts, split along rows into chunks so that no buffer exceeds the storage binding
// limit (Qwen's 151936×896 embedding is 544 MB in f32; SwiftShader binds at most 128 MiB).
// Every chunk is self-contained: its own data buffer (and scales buffer for q8/q4) holding rows
// [rowStart, rowStart + rows) in the layout of formats.ts, so kernels address a chunk exactly like
// a whole weight and write outputs rowStart.. of their own.
import type { GpuContext, MemoryCategory } from './gpu/context';
import { DTYPE_BYTES, isTensorDtype, toFloat32, type TensorDtype } from '../hf-io/dtypes';
import { dataWordsPerRow, groupsPerRow, hasScales, isWeightFormat, paddedCols, scaleWordsFor, type PackedWeight, type WeightFormat } from './quant/formats';
import { packWeight } from './quant/pack';
import { weightChunks, type WeightChunkPlan } from './model/buffer-plan';
import { createPlanned } from './gpu/planned';

export { rowsPerChunk } from './model/buffer-plan';

export interface GpuWeightChunk {
  /** First weight row held by this chunk. */
  rowStart: number;
  rows: number;
  data: GPUBuffer;
  /** q8/q4 only. */
  scales: GPUBuffer | null;
}

export interface GpuWeight {
  name: string;
  format: WeightFormat;
  /** N: output features (or vocabulary size for an embedding). */
  rows: number;
  /** K: input features (or hidden size). */
  cols: number;
  chunks: GpuWeightChunk[];
  /** GPU bytes of all chunks (data + scales). */
  byteLength: number;
}

/** A 2-D tensor as the model loader holds it: raw little-endian bytes, or f32 values. */
export type WeightSource = { dtype: TensorDtype; shape: readonly number[]; bytes: Uint8Array } | { shape: readonly number[]; values: Float32Array };

export interface WeightUploadOptions {
  /** Largest buffer per chunk; defaults to the device's binding limit. Tests force small chunks. */
  maxChunkBytes?: number;
  category?: MemoryCategory;
}

/** The weight's chunks from the size table (buffer-plan.ts), under the device's buffer limits. */
function planChunks(ctx: GpuContext, name: string, format: WeightFormat, rows: number, cols: number, options: WeightUploadOptions): WeightChunkPlan[] {
  const limit = Math.min(options.maxChunkBytes ?? ctx.maxBindingBytes, ctx.device.limits.maxBufferSize);
  return weightChunks(name, format, rows, cols, limit, options.category ?? 'weights');
}

function checkMatrixShape(name: string, shape: readonly number[]): [number, number] {
  if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`${name}: expected a 2-D weight [rows, cols], got shape [${shape.join(', ')}]`);
  }
  return [shape[0], shape[1]];
}

/**
 * Uploads a weight in `format`, converting/quantizing one chunk of rows at a time so the CPU never
 * holds more than one chunk in f32.
 */
export function uploadWeight(ctx: GpuContext, name: string, source: WeightSource, format: WeightFormat, options: WeightUploadOptions = {}): GpuWeight {
  if (!isWeightFormat(format)) throw new Error(`${name}: unknown weight format '${String(format)}' (expected f32, f16, q8 or q4)`);
  const [rows, cols] = checkMatrixShape(name, source.shape);
  let rowValues: (start: number, count: number) => Float32Array;
  if ('values' in source) {
    if (source.values.length !== rows * cols) throw new Error(`${name}: ${source.values.length} values do not fill shape [${rows}, ${cols}]`);
    rowValues = (start, count) => source.values.subarray(start * cols, (start + count) * cols);
  } else {
    if (!isTensorDtype(source.dtype)) throw new Error(`${name}: unsupported dtype '${String(source.dtype)}' (expected F32, F16 or BF16)`);
    const rowBytes = cols * DTYPE_BYTES[source.dtype];
    if (source.bytes.byteLength !== rows * rowBytes) {
      throw new Error(`${name}: ${source.bytes.byteLength} bytes do not match ${source.dtype} shape [${rows}, ${cols}] (${rows * rowBytes} bytes)`);
    }
    rowValues = (start, count) => toFloat32(source.bytes.subarray(start * rowBytes, (start + count) * rowBytes), source.dtype);
  }
  // F16 → f16 and F32 → f32 without row padding: the tensor bytes already are the packed layout.
  const direct =
    'bytes' in source && cols === paddedCols(cols) && ((source.dtype === 'F16' && format === 'f16') || (source.dtype === 'F32' && format === 'f32'));
  const chunks = planChunks(ctx, name, format, rows, cols, options).map((plan) => {
    const { rowStart, rows: count } = plan;
    const packed = direct
      ? { format, rows: count, cols, data: wordsOf(rowBytes(source, rowStart, count, cols)), scales: null }
      : packWeight(rowValues(rowStart, count), count, cols, format, name);
    return uploadChunk(ctx, plan, packed);
  });
  return finish(name, format, rows, cols, chunks);
}

/** Uploads an already packed weight (e.g. pre-quantized q4f16_1 data), splitting it into chunks. */
export function uploadPackedWeight(ctx: GpuContext, name: string, packed: PackedWeight, options: WeightUploadOptions = {}): GpuWeight {
  const { format, rows, cols } = packed;
  checkMatrixShape(name, [rows, cols]);
  const wordsPerRow = dataWordsPerRow(format, cols);
  if (packed.data.length !== rows * wordsPerRow)
    throw new Error(`${name}: ${format} data has ${packed.data.length} words, expected ${rows * wordsPerRow} for [${rows}, ${cols}]`);
  if (hasScales(format) && (!packed.scales || packed.scales.length !== scaleWordsFor(rows, cols))) {
    throw new Error(`${name}: ${format} scales have ${packed.scales?.length ?? 0} words, expected ${scaleWordsFor(rows, cols)}`);
  }
  const groups = groupsPerRow(cols);
  const allScales = packed.scales ? new Uint16Array(packed.scales.buffer, packed.scales.byteOffset, packed.scales.length * 2) : null;
  const chunks = planChunks(ctx, name, format, rows, cols, options).map((plan) => {
    const { rowStart, rows: count } = plan;
    let scales: Uint32Array | null = null;
    if (allScales) {
      // A chunk may start at an odd scale index: re-pack its halves from a word boundary.
      const halves = new Uint16Array(scaleWordsFor(count, cols) * 2);
      halves.set(allScales.subarray(rowStart * groups, (rowStart + count) * groups));
      scales = new Uint32Array(halves.buffer);
    }
    const data = packed.data.subarray(rowStart * wordsPerRow, (rowStart + count) * wordsPerRow);
    return uploadChunk(ctx, plan, { format, rows: count, cols, data, scales });
  });
  return finish(name, format, rows, cols, chunks);
}

function rowBytes(source: { dtype: TensorDtype; bytes: Uint8Array }, rowStart: number, count: number, cols: number): Uint8Array {
  const size = cols * DTYPE_BYTES[source.dtype];
  return source.bytes.subarray(rowStart * size, (rowStart + count) * size);
}

/** A Uint32Array view of the bytes (copied when they are not 4-byte aligned). */
function wordsOf(bytes: Uint8Array): Uint32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

/** Creates a chunk's planned buffers and writes the packed rows into them. */
function uploadChunk(ctx: GpuContext, plan: WeightChunkPlan, packed: PackedWeight): GpuWeightChunk {
  const fill = (entry: WeightChunkPlan['data'], words: Uint32Array) => {
    if (words.byteLength > entry.bytes) throw new Error(`${entry.name}: ${words.byteLength} bytes of packed data for a planned ${entry.bytes}-byte buffer`);
    const buffer = createPlanned(ctx, entry);
    ctx.write(buffer, words);
    return buffer;
  };
  if (!plan.scales !== !packed.scales) throw new Error(`${plan.data.name}: the plan and the packed weight disagree on scales`);
  return {
    rowStart: plan.rowStart,
    rows: plan.rows,
    data: fill(plan.data, packed.data),
    scales: plan.scales && packed.scales ? fill(plan.scales, packed.scales) : null,
  };
}

function finish(name: string, format: WeightFormat, rows: number, cols: number, chunks: GpuWeightChunk[]): GpuWeight {
  const byteLength = chunks.reduce((sum, c) => sum + c.data.size + (c.scales?.size ?? 0), 0);
  return { name, format, rows, cols, chunks, byteLength };
}

export function destroyWeight(ctx: GpuContext, weight: GpuWeight) {
  for (const chunk of weight.chunks) {
    ctx.destroy(chunk.data);
    if (chunk.scales) ctx.destroy(chunk.scales);
  }
  weight.chunks = [];
}
