// Shapes, strided layouts and shared WGSL constants of the training attention (forward without a
// KV cache, and its backward). Training runs B sequences of T tokens each, packed as token
// b·T + t; token t attends to positions 0..t of its own sequence (causal, no cache).
//
// Optional segments (shared-prefix packing, `AttentionSegments`): a sequence of T tokens may hold a
// shared prefix [0, P) followed by segments [s_c, e_c); a prefix token t sees keys 0..t, a segment
// token t sees the prefix and its own segment up to itself: [0, P) ∪ [s_c, t]. Without segments
// every token is in one segment starting at 0 (plain causal).
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
  if (l.tokenStride < qWidth + 2 * kvWidth)
    throw new Error(`${op}: ${name} tokenStride ${l.tokenStride} is smaller than (heads + 2·kvHeads)·headDim = ${qWidth + 2 * kvWidth}`);
  const last = (tokensOf(s) - 1) * l.tokenStride;
  const reach = Math.max(l.qOffset + qWidth, l.kOffset + kvWidth, l.vOffset + kvWidth) + last;
  if (buffer.size < reach * 4) throw new Error(`${op}: ${name} holds ${buffer.size / 4} f32 values, ${tokensOf(s)} tokens reach ${reach}`);
  return l;
}

export function checkSize(op: string, name: string, buffer: GPUBuffer, values: number, what: string) {
  if (buffer.size < values * 4) throw new Error(`${op}: ${name} holds ${buffer.size / 4} f32 values, needs ${what} = ${values}`);
}

/**
 * Per-token segment table: u32 [tokens × 4] = (prefixEnd, segStart, queryEnd, 0), offsets within
 * the token's own sequence. Token t sees keys [0, prefixEnd) ∪ [segStart, t]; as a key it is seen by
 * exactly the queries [t, queryEnd) (so the dK/dV pass can stream a contiguous range).
 */
export const SEGMENT_WORDS = 4;

/** One sequence's packing: a shared prefix of `prefix` tokens, then segments of these lengths. */
export interface SequenceSegments {
  prefix: number;
  segments: readonly number[];
}

/**
 * Builds the segment table for sequences of `seqLen` tokens. Tokens after the last segment (padding)
 * join the last segment (or the prefix when there is none), so every token's table entry is
 * consistent with causal attention inside its segment.
 */
export function segmentTable(sequences: readonly SequenceSegments[], seqLen: number): Uint32Array {
  const table = new Uint32Array(sequences.length * seqLen * SEGMENT_WORDS);
  sequences.forEach((seq, b) => {
    const used = seq.prefix + seq.segments.reduce((a, n) => a + n, 0);
    if (!Number.isInteger(seq.prefix) || seq.prefix < 0 || seq.segments.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`segment table: sequence ${b} needs a prefix ≥ 0 and segments of ≥ 1 token, got ${seq.prefix} | ${seq.segments.join(', ')}`);
    if (used > seqLen) throw new Error(`segment table: sequence ${b} holds ${used} tokens, more than its length ${seqLen}`);
    const put = (t: number, prefixEnd: number, segStart: number, queryEnd: number) =>
      table.set([prefixEnd, segStart, queryEnd, 0], (b * seqLen + t) * SEGMENT_WORDS);
    const prefixEnd = seq.segments.length ? seq.prefix : seqLen;
    for (let t = 0; t < Math.min(prefixEnd, seqLen); t++) put(t, 0, 0, seqLen);
    let start = seq.prefix;
    seq.segments.forEach((n, c) => {
      const end = c === seq.segments.length - 1 ? seqLen : start + n;
      for (let t = start; t < end; t++) put(t, seq.prefix, start, end);
      start += n;
    });
  });
  return table;
}

/** The keys token t (index within its sequence) sees, from the segment table (CPU references). */
export function visibleKeys(segments: ArrayLike<number> | undefined, token: number, t: number): number[] {
  if (!segments) return Array.from({ length: t + 1 }, (_, j) => j);
  const prefixEnd = segments[token * SEGMENT_WORDS];
  const segStart = segments[token * SEGMENT_WORDS + 1];
  const keys = Array.from({ length: prefixEnd }, (_, j) => j);
  for (let j = segStart; j <= t; j++) keys.push(j);
  return keys;
}

export function checkSegments(op: string, segments: GPUBuffer | undefined, s: AttentionTrainShape) {
  if (segments && segments.size < tokensOf(s) * SEGMENT_WORDS * 4)
    throw new Error(`${op}: segments holds ${segments.size / 4} u32 values, needs tokens × ${SEGMENT_WORDS} = ${tokensOf(s) * SEGMENT_WORDS}`);
}

/**
 * WGSL accessors of the segment table (binding `binding`), or their plain-causal constants when
 * there is none. Absolute token indices; `first` is the token's sequence start.
 */
export function segmentWgsl(masked: boolean, binding: number): string {
  if (!masked) {
    return /* wgsl */ `
fn prefix_end(token: u32) -> u32 { return 0u; }
fn seg_start(token: u32, first: u32) -> u32 { return first; }
fn query_end(token: u32, first: u32) -> u32 { return first + params.seq_len; }
fn key_token(j: u32, first: u32, pre: u32, seg: u32) -> u32 { return first + j; }`;
  }
  return /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read> segs: array<u32>;
fn prefix_end(token: u32) -> u32 { return segs[token * ${SEGMENT_WORDS}u]; }
fn seg_start(token: u32, first: u32) -> u32 { return first + segs[token * ${SEGMENT_WORDS}u + 1u]; }
fn query_end(token: u32, first: u32) -> u32 { return first + segs[token * ${SEGMENT_WORDS}u + 2u]; }
// The j-th key a token sees: the prefix's keys first, then its own segment's.
fn key_token(j: u32, first: u32, pre: u32, seg: u32) -> u32 { return select(seg + j - pre, first + j, j < pre); }`;
}

/**
 * WGSL lines every per-(token, head) kernel starts with, given its `item` = token · HEADS + head:
 * the token, its head, its sequence's first token, the keys it sees (`keys`, walked through
 * key_token) and the base offsets of its kv head's K and V rows.
 */
export const QUERY_ROW_SETUP = /* wgsl */ `
  let token = item / HEADS;
  let head = item % HEADS;
  let first = token - token % params.seq_len;
  let pre = prefix_end(token);
  let seg = seg_start(token, first);
  let keys = pre + token - seg + 1u;
  let k_base = K_OFF + (head / GROUP) * HEAD_DIM;
  let v_base = V_OFF + (head / GROUP) * HEAD_DIM;`;

/** Bindings of the forward kernels, tiled and serial alike (one bind group serves either). */
export function forwardBindings(masked: boolean): string {
  return /* wgsl */ `@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${segmentWgsl(masked, 4)}`;
}

/** Where the backward kernels write dQ, dK, dV (a QkvLayout view of the gradient buffer). */
export function gradConstants(g: QkvLayout): string {
  return /* wgsl */ `
const DQ_OFF = ${g.qOffset}u;
const DK_OFF = ${g.kOffset}u;
const DV_OFF = ${g.vOffset}u;
const D_STRIDE = ${g.tokenStride}u;`;
}

/** Bindings of the dQ and dK/dV kernels, tiled and serial alike. */
export function backwardBindings(masked: boolean): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> d_out: array<f32>;
@group(0) @binding(2) var<storage, read> lse: array<f32>;
@group(0) @binding(3) var<storage, read> delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;${segmentWgsl(masked, 6)}`;
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
