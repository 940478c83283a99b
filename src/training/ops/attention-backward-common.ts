// Shapes, strided layouts and shared WGSL constants of the training attention (forward without a
// KV cache, and its backward). Training runs B sequences of T tokens each, packed as token
// b·T + t; token t attends to positions 0..t of its own sequence (causal, no cache).
//
// Q, K, V are read as strided views, normally straight from the fused qkv projection output:
// element (token, head, i) of Q is at qOffset + token·tokenStride + head·headDim + i (K and V alike
// with their offsets and kvHeads). The gradients dQ, dK, dV are written in a view of the same kind
// (default: the same layout), so they land in a fused d(qkv) buffer that feeds the qkv matmul and
// LoRA backward directly.
import { f32Bits } from '../../engine/gpu/context';
import { attentionLaneConstants } from '../../engine/ops/attention-lanes';

export interface AttentionTrainShape {
  /** B. */
  sequences: number;
  /** T: tokens per sequence. */
  seqLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export interface QkvLayout {
  qOffset: number;
  kOffset: number;
  vOffset: number;
  /** Elements between consecutive tokens. */
  tokenStride: number;
}

/** The layout of the engine's fused qkv buffer: rows [q | k | v], (heads + 2·kvHeads)·headDim wide. */
export function fusedQkvLayout(s: Pick<AttentionTrainShape, 'heads' | 'kvHeads' | 'headDim'>): QkvLayout {
  return { qOffset: 0, kOffset: s.heads * s.headDim, vOffset: (s.heads + s.kvHeads) * s.headDim, tokenStride: (s.heads + 2 * s.kvHeads) * s.headDim };
}

export function tokensOf(s: AttentionTrainShape): number {
  return s.sequences * s.seqLen;
}

export function checkShape(op: string, s: AttentionTrainShape) {
  for (const [name, value] of Object.entries(s)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${value}`);
  }
  if (s.heads % s.kvHeads !== 0) throw new Error(`${op}: ${s.heads} query heads is not a multiple of ${s.kvHeads} kv heads`);
}

/** Validates a layout and that `buffer` holds every token of it; returns the layout. */
export function checkLayout(op: string, name: string, l: QkvLayout, s: AttentionTrainShape, buffer: GPUBuffer): QkvLayout {
  for (const [field, value] of Object.entries(l)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${op}: ${name} ${field} must be a non-negative integer, got ${value}`);
  }
  const qWidth = s.heads * s.headDim;
  const kvWidth = s.kvHeads * s.headDim;
  if (l.tokenStride < qWidth + 2 * kvWidth) throw new Error(`${op}: ${name} tokenStride ${l.tokenStride} is smaller than (heads + 2·kvHeads)·headDim = ${qWidth + 2 * kvWidth}`);
  const last = (tokensOf(s) - 1) * l.tokenStride;
  const reach = Math.max(l.qOffset + qWidth, l.kOffset + kvWidth, l.vOffset + kvWidth) + last;
  if (buffer.size < reach * 4) throw new Error(`${op}: ${name} holds ${buffer.size / 4} f32 values, ${tokensOf(s)} tokens reach ${reach}`);
  return l;
}

export function checkSize(op: string, name: string, buffer: GPUBuffer, values: number, what: string) {
  if (buffer.size < values * 4) throw new Error(`${op}: ${name} holds ${buffer.size / 4} f32 values, needs ${what} = ${values}`);
}

/** Threads per workgroup, and keys (or queries) scored per tile: one per thread. */
export const ATTENTION_WORKGROUP = 64;

/** WGSL constants shared by the training attention kernels. */
export function attentionConstants(s: AttentionTrainShape, qkv: QkvLayout): string {
  return /* wgsl */ `
struct Params { tokens: u32, seq_len: u32 }
const HEAD_DIM = ${s.headDim}u;
const HEADS = ${s.heads}u;
const KV_HEADS = ${s.kvHeads}u;
const GROUP = ${s.heads / s.kvHeads}u;
const Q_OFF = ${qkv.qOffset}u;
const K_OFF = ${qkv.kOffset}u;
const V_OFF = ${qkv.vOffset}u;
const STRIDE = ${qkv.tokenStride}u;
const WG = ${ATTENTION_WORKGROUP}u;
const TILE = ${ATTENTION_WORKGROUP}u;
${attentionLaneConstants(s.headDim, ATTENTION_WORKGROUP)}
const SCALE = bitcast<f32>(${f32Bits(1 / Math.sqrt(s.headDim))}u);
const NEG_BIG = -3.0e38;`;
}

/** [x, y] workgroups for `items` workgroups, split over the per-dimension limit. */
export function gridFor(items: number, limit: number): [number, number] {
  const x = Math.min(items, limit);
  return [x, Math.ceil(items / x)];
}
