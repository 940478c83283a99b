// LM head: logits[r, :] = h[row(r)]·Eᵀ with E [vocab, hidden] — the tied embedding table (Qwen2.5
// 0.5B/1.5B, Qwen3-0.6B) or a separate lm_head weight; either way a GpuWeight, so this is the
// matmul, chunked along the vocabulary like any weight.
//
// Decode and prefill only need the logits of each sequence's last position: pass `rows` as
// { offset: T − 1, stride: T } for B sequences of equal length T packed one after another, or
// { indices } (u32 buffer) for ragged batches. Omit `rows` for full [T, vocab] logits (fixture tests).
import type { GpuContext } from '../gpu/context';
import type { GpuWeight } from '../weights';
import { encodeMatmul, matmulCpu, type XRows } from './matmul';

export interface LmHeadArgs {
  /** f32 final hidden states (after the final norm), rows of `weight.cols` values. */
  hidden: GPUBuffer;
  /** E [vocab, hidden]. */
  weight: GpuWeight;
  /** f32 [count, vocab]. */
  logits: GPUBuffer;
  /** Number of logit rows to compute. */
  count: number;
  /** Which hidden rows to project; default 0..count−1. */
  rows?: XRows;
}

export function encodeLmHead(ctx: GpuContext, pass: GPUComputePassEncoder, args: LmHeadArgs) {
  encodeMatmul(ctx, pass, { x: args.hidden, weight: args.weight, y: args.logits, m: args.count, xRows: args.rows });
}

/** CPU reference: logits for the hidden rows `rows` (default all), E f32 [vocab, hidden]. */
export function lmHeadCpu(hidden: Float32Array, table: Float32Array, vocab: number, hiddenSize: number, rows?: number[]): Float32Array {
  const count = rows ? rows.length : hidden.length / hiddenSize;
  return matmulCpu(hidden, table, count, vocab, hiddenSize, { xRows: rows });
}
