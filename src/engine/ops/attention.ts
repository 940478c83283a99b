// Causal grouped-query attention over the KV cache, for prefill and decode alike.
//
// Query token t (cache slot s, position p) attends to cache positions 0..p of slot s, which the
// caller has filled with encodeKvWrite for this step (and earlier steps) before this dispatch.
// That one rule covers prefill (many tokens of a sequence), decode (one token per sequence) and
// batches mixing sequences of different lengths. Query head h reads kv head
// h / (heads / kvHeads). Scores are (q · k) / sqrt(head_dim) (HF: head_dim ** -0.5), softmax in
// f32 with an online (running max) rescaling, so no score matrix is ever stored.
//
// One workgroup handles one (token, head): it streams the slot's K/V history in tiles of TILE
// positions; thread j scores position j of the tile, then every thread owns head_dim / WORKGROUP
// output dimensions and accumulates the softmax-weighted V rows for them (short head_dims split
// the threads into key groups whose partial states merge at the end: see attention-lanes.ts).
//
// Split-K ("flash decoding"): with few query rows (decode: one token per sequence) there are only
// tokens × heads workgroups, too few to fill a large GPU over a long context. With `split`, each
// (token, head) is also split into `splits` equal key ranges (workgroup z), each writing its
// unnormalized partial (acc[headDim], max, sum) to a scratch buffer, and a second kernel merges
// the partials with the usual max rescaling. Same results up to f32 rounding.
//
// Serial kernel (`kernel: 'serial'`, for decode and prefill on CPU-emulated GPUs): one thread per
// (token, head, key range) runs a plain online softmax over its keys, with no workgroup memory and
// no barrier. SwiftShader runs a workgroup containing a barrier as coroutines switching at every
// barrier, which made the tiled kernel's cost per decode step far exceed its arithmetic. Its
// partials go through the same split-K layout and merge kernel; results agree with the tiled
// kernel to f32 rounding (another summation order), like any change of split count.
//
// Layouts: q is [tokens, heads, headDim] at qOffset with qTokenStride (so Q can be read directly
// from a fused QKV buffer); out is contiguous [tokens, heads, headDim]. Output rows of tokens with
// an invalid slot are unspecified (validate with checkTokenPlacement); a position >= maxSeq
// attends to the maxSeq cached positions.
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';
import type { KvCache, KvCacheCpu } from './kv-cache';
import { attentionLaneConstants, attentionLanes } from './attention-lanes';

const WORKGROUP = 64;
const TILE = WORKGROUP;
const COMBINE_WORKGROUP = 256;
/** Stand-in for -infinity: WGSL constant expressions may not be infinite. */
const NEG_BIG = -3.0e38;

export interface AttentionArgs {
  cache: KvCache;
  layer: number;
  q: GPUBuffer;
  out: GPUBuffer;
  /** u32 [tokens]. */
  slots: GPUBuffer;
  /** u32 [tokens]. */
  positions: GPUBuffer;
  tokens: number;
  /** Query heads (a multiple of the cache's kvHeads). */
  heads: number;
  qOffset?: number;
  /** Elements between consecutive tokens of q; default heads * headDim. */
  qTokenStride?: number;
  /** Split-K: key ranges per (token, head) and an f32 scratch of attentionScratchBytes(...) bytes. */
  split?: { splits: number; scratch: GPUBuffer };
  /** 'tiled' (default): one workgroup per (token, head, range); 'serial': one thread each, no barriers. */
  kernel?: AttentionKernel;
}

export type AttentionKernel = 'tiled' | 'serial';

/** f32 values per partial in the split-K scratch: acc[headDim], running max, running sum. */
function partialStride(headDim: number): number {
  return headDim + 2;
}

/** Bytes of split-K scratch for one attention call. */
export function attentionScratchBytes(tokens: number, heads: number, headDim: number, splits: number): number {
  return tokens * heads * splits * partialStride(headDim) * 4;
}

/** Split-K is used only below this many (token, head) items, into at most MAX_ATTENTION_SPLITS ranges. */
export const SPLIT_ITEMS_BELOW = 128;
export const MAX_ATTENTION_SPLITS = 64;

/**
 * A split count for a call, by a simple occupancy heuristic (not tuned on hardware): split only
 * when tokens × heads workgroups are too few (< SPLIT_ITEMS_BELOW), into ranges of at least 128
 * keys, aiming at ~256 workgroups in total and at most MAX_ATTENTION_SPLITS splits.
 */
export function suggestAttentionSplits(tokens: number, heads: number, maxKeys: number): number {
  const items = tokens * heads;
  if (items >= SPLIT_ITEMS_BELOW) return 1;
  return Math.max(1, Math.min(MAX_ATTENTION_SPLITS, Math.ceil(maxKeys / 128), Math.ceil(256 / Math.max(items, 1))));
}

/** Keys per thread the serial kernel aims at: enough to amortize a thread, few enough to spread. */
export const SERIAL_KEYS_PER_SPLIT = 32;

/**
 * Kernel and split count for a step attending to at most `maxKeys` keys: the tiled kernel with
 * suggestAttentionSplits on GPUs. On a device that prefers barrier-free kernels, always the serial
 * kernel: where the tiled plan splits (decode-sized steps over more than 128 keys) with ranges of
 * ~SERIAL_KEYS_PER_SPLIT keys, elsewhere unsplit (prefill: one thread walks a token's keys; 2.6×
 * faster than the tiled kernel on SwiftShader at 512 tokens). Unsplit calls round a token's output
 * the same whatever else the step holds, so a short prompt's delta prefill still rounds exactly like
 * its full prefill (prefix-cache.test.ts compares them exactly).
 */
export function planAttention(tokens: number, heads: number, maxKeys: number, preferBarrierFree: boolean): { kernel: AttentionKernel; splits: number } {
  const splits = suggestAttentionSplits(tokens, heads, maxKeys);
  if (!preferBarrierFree) return { kernel: 'tiled', splits };
  if (splits === 1) return { kernel: 'serial', splits: 1 };
  return { kernel: 'serial', splits: Math.max(1, Math.min(MAX_ATTENTION_SPLITS, Math.ceil(maxKeys / SERIAL_KEYS_PER_SPLIT))) };
}

/** Scratch that holds the partials of any call suggestAttentionSplits or planAttention would split. */
export function maxAttentionScratchBytes(headDim: number): number {
  return attentionScratchBytes(SPLIT_ITEMS_BELOW - 1, 1, headDim, MAX_ATTENTION_SPLITS);
}

interface AttentionShape {
  f16: boolean;
  /** Write split-K partials instead of normalized outputs. */
  split: boolean;
  heads: number;
  kvHeads: number;
  headDim: number;
  maxSeq: number;
  qOffset: number;
  qTokenStride: number;
}

export function attentionWgsl(s: AttentionShape): string {
  const { keyGroups } = attentionLanes(s.headDim, WORKGROUP);
  const group = s.heads / s.kvHeads;
  const cacheType = s.f16 ? 'u32' : 'f32';
  const stride = partialStride(s.headDim);
  const finish = s.split
    ? `let dst = ((token * HEADS + head) * groups.z + wg.z) * ${stride}u;
  for (var d = lid; d < HEAD_DIM; d += ${WORKGROUP}u) { out[dst + d] = mergedAcc(d, rowMax); }
  if (lid == 0u) {
    out[dst + HEAD_DIM] = rowMax;
    out[dst + HEAD_DIM + 1u] = rowSum;
  }`
    : `let dst = (token * HEADS + head) * HEAD_DIM;
  for (var d = lid; d < HEAD_DIM; d += ${WORKGROUP}u) { out[dst + d] = mergedAcc(d, rowMax) / rowSum; }`;
  // Packed f16: element i is half (i & 1) of word i / 2.
  const readers = s.f16
    ? `fn readK(i: u32) -> f32 { return unpack2x16float(kCache[i >> 1u])[i & 1u]; }
fn readV(i: u32) -> f32 { return unpack2x16float(vCache[i >> 1u])[i & 1u]; }`
    : `fn readK(i: u32) -> f32 { return kCache[i]; }
fn readV(i: u32) -> f32 { return vCache[i]; }`;
  return /* wgsl */ `
struct Params { tokens: u32, slotBase: u32, slotCount: u32 }
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kCache: array<${cacheType}>;
@group(0) @binding(2) var<storage, read> vCache: array<${cacheType}>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> slots: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;

const HEAD_DIM = ${s.headDim}u;
const HEADS = ${s.heads}u;
const KV_HEADS = ${s.kvHeads}u;
const GROUP = ${group}u;
const MAX_SEQ = ${s.maxSeq}u;
const Q_OFFSET = ${s.qOffset}u;
const Q_TOKEN_STRIDE = ${s.qTokenStride}u;
const TILE = ${TILE}u;
${attentionLaneConstants(s.headDim, WORKGROUP)}
const SCALE = bitcast<f32>(${f32Bits(1 / Math.sqrt(s.headDim))}u);
const NEG_BIG = ${NEG_BIG.toExponential()};

var<workgroup> qShared: array<f32, ${s.headDim}>;
var<workgroup> scores: array<f32, ${TILE}>;
var<workgroup> header: vec2u;
var<workgroup> groupMax: array<f32, KEY_GROUPS>;
var<workgroup> partMax: array<f32, KEY_GROUPS>;
var<workgroup> partSum: array<f32, KEY_GROUPS>;
var<workgroup> partAcc: array<f32, ${keyGroups * s.headDim}>;

/** Σ over key groups of their weighted-V sums for dim d, rescaled to the row max. */
fn mergedAcc(d: u32, rowMax: f32) -> f32 {
  var num = 0.0;
  for (var g = 0u; g < KEY_GROUPS; g++) { num += partAcc[g * HEAD_DIM + d] * exp(partMax[g] - rowMax); }
  return num;
}

${readers}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wg.x + wg.y * groups.x;
  if (item >= params.tokens * HEADS) { return; }
  let token = item / HEADS;
  let head = item % HEADS;
  // Slot and key count, made provably uniform for the barriers below.
  if (lid == 0u) { header = vec2u(slots[token], min(positions[token], MAX_SEQ - 1u) + 1u); }
  let info = workgroupUniformLoad(&header);
  let slot = info.x;
  let keys = info.y;
  // This workgroup's key range: all keys, or split wg.z of groups.z equal shares (maybe empty).
  let share = (keys + groups.z - 1u) / groups.z;
  let kBegin = min(wg.z * share, keys);
  let kEnd = min(kBegin + share, keys);
  if (slot < params.slotBase || slot - params.slotBase >= params.slotCount) { return; }
  let base = ((slot - params.slotBase) * KV_HEADS + head / GROUP) * MAX_SEQ * HEAD_DIM;
  for (var d = lid; d < HEAD_DIM; d += ${WORKGROUP}u) {
    qShared[d] = q[Q_OFFSET + token * Q_TOKEN_STRIDE + head * HEAD_DIM + d];
  }
  workgroupBarrier();

  // Key group kg takes keys kg, kg + KEY_GROUPS, ... of each tile; lane dl owns dims dl + c·DIM_LANES.
  let kg = lid / DIM_LANES;
  let dl = lid % DIM_LANES;
  var runningMax = NEG_BIG;
  var runningSum = 0.0;
  var acc: array<f32, DIMS_PER_THREAD>;
  for (var tile = kBegin; tile < kEnd; tile += TILE) {
    let j = tile + lid;
    var score = NEG_BIG;
    if (j < kEnd) {
      let row = base + j * HEAD_DIM;
      var dot = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) { dot += qShared[d] * readK(row + d); }
      score = dot * SCALE;
    }
    scores[lid] = score;
    workgroupBarrier();
    let count = min(TILE, kEnd - tile);
    var tileMax = NEG_BIG;
    for (var i = kg; i < count; i += KEY_GROUPS) { tileMax = max(tileMax, scores[i]); }
    let newMax = max(runningMax, tileMax);
    if (dl == 0u) { groupMax[kg] = newMax; }
    workgroupBarrier();
    // Each thread exponentiates its own score once, against the max of the group owning the key.
    scores[lid] = select(0.0, exp(score - groupMax[lid % KEY_GROUPS]), j < kEnd);
    workgroupBarrier();
    let correction = exp(runningMax - newMax);
    runningSum *= correction;
    for (var k = 0u; k < DIMS_PER_THREAD; k++) { acc[k] *= correction; }
    for (var i = kg; i < count; i += KEY_GROUPS) {
      let p = scores[i];
      runningSum += p;
      let row = base + (tile + i) * HEAD_DIM;
      for (var k = 0u; k < DIMS_PER_THREAD; k++) {
        let d = dl + k * DIM_LANES;
        if (d < HEAD_DIM) { acc[k] += p * readV(row + d); }
      }
    }
    runningMax = newMax;
    workgroupBarrier();
  }
  // Merge the key groups' softmax states (max, sum, weighted V) with the usual max rescaling.
  for (var k = 0u; k < DIMS_PER_THREAD; k++) {
    let d = dl + k * DIM_LANES;
    if (d < HEAD_DIM) { partAcc[kg * HEAD_DIM + d] = acc[k]; }
  }
  if (dl == 0u) {
    partMax[kg] = runningMax;
    partSum[kg] = runningSum;
  }
  workgroupBarrier();
  var rowMax = NEG_BIG;
  for (var g = 0u; g < KEY_GROUPS; g++) { rowMax = max(rowMax, partMax[g]); }
  var rowSum = 0.0;
  for (var g = 0u; g < KEY_GROUPS; g++) { rowSum += partSum[g] * exp(partMax[g] - rowMax); }
  ${finish}
}`;
}

/** Threads per workgroup of the serial kernel (small: a SwiftShader workgroup runs on one core). */
const SERIAL_WORKGROUP = 16;

/**
 * The serial kernel: thread (token, head, range z) streams keys kBegin..kEnd-1 with a running max
 * m, sum s and weighted sum acc (rescaled by e^(m_old - m_new) when the max grows), then writes
 * acc / s (unsplit) or the partial (acc, m, s) for the merge kernel.
 */
export function attentionSerialWgsl(s: AttentionShape): string {
  const group = s.heads / s.kvHeads;
  const cacheType = s.f16 ? 'u32' : 'f32';
  const stride = partialStride(s.headDim);
  const readers = s.f16
    ? `fn readK(i: u32) -> f32 { return unpack2x16float(kCache[i >> 1u])[i & 1u]; }
fn readV(i: u32) -> f32 { return unpack2x16float(vCache[i >> 1u])[i & 1u]; }`
    : `fn readK(i: u32) -> f32 { return kCache[i]; }
fn readV(i: u32) -> f32 { return vCache[i]; }`;
  const finish = s.split
    ? `let dst = ((token * HEADS + head) * params.splits + z) * ${stride}u;
  for (var d = 0u; d < HEAD_DIM; d++) { out[dst + d] = acc[d]; }
  out[dst + HEAD_DIM] = runningMax;
  out[dst + HEAD_DIM + 1u] = runningSum;`
    : `let dst = (token * HEADS + head) * HEAD_DIM;
  for (var d = 0u; d < HEAD_DIM; d++) { out[dst + d] = acc[d] / runningSum; }`;
  return /* wgsl */ `
struct Params { tokens: u32, slotBase: u32, slotCount: u32, splits: u32 }
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> kCache: array<${cacheType}>;
@group(0) @binding(2) var<storage, read> vCache: array<${cacheType}>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> slots: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;

const HEAD_DIM = ${s.headDim}u;
const HEADS = ${s.heads}u;
const KV_HEADS = ${s.kvHeads}u;
const GROUP = ${group}u;
const MAX_SEQ = ${s.maxSeq}u;
const Q_OFFSET = ${s.qOffset}u;
const Q_TOKEN_STRIDE = ${s.qTokenStride}u;
const SCALE = bitcast<f32>(${f32Bits(1 / Math.sqrt(s.headDim))}u);
const NEG_BIG = ${NEG_BIG.toExponential()};

${readers}

@compute @workgroup_size(${SERIAL_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = gid.x + gid.y * groups.x * ${SERIAL_WORKGROUP}u;
  if (index >= params.tokens * HEADS * params.splits) { return; }
  let z = index % params.splits;
  let item = index / params.splits;
  let token = item / HEADS;
  let head = item % HEADS;
  let slot = slots[token];
  if (slot < params.slotBase || slot - params.slotBase >= params.slotCount) { return; }
  let keys = min(positions[token], MAX_SEQ - 1u) + 1u;
  // This thread's key range: split z of params.splits equal shares (maybe empty).
  let share = (keys + params.splits - 1u) / params.splits;
  let kBegin = min(z * share, keys);
  let kEnd = min(kBegin + share, keys);
  let base = ((slot - params.slotBase) * KV_HEADS + head / GROUP) * MAX_SEQ * HEAD_DIM;
  let qBase = Q_OFFSET + token * Q_TOKEN_STRIDE + head * HEAD_DIM;
  // Zeroed explicitly: SwiftShader may keep a var's value from an earlier loop iteration.
  var acc: array<f32, ${s.headDim}>;
  for (var d = 0u; d < HEAD_DIM; d++) { acc[d] = 0.0; }
  var runningMax = NEG_BIG;
  var runningSum = 0.0;
  for (var j = kBegin; j < kEnd; j++) {
    let row = base + j * HEAD_DIM;
    var dot = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) { dot += q[qBase + d] * readK(row + d); }
    let score = dot * SCALE;
    if (score > runningMax) {
      let correction = exp(runningMax - score);
      runningSum = runningSum * correction + 1.0;
      for (var d = 0u; d < HEAD_DIM; d++) { acc[d] = acc[d] * correction + readV(row + d); }
      runningMax = score;
    } else {
      let p = exp(score - runningMax);
      runningSum += p;
      for (var d = 0u; d < HEAD_DIM; d++) { acc[d] += p * readV(row + d); }
    }
  }
  ${finish}
}`;
}

/** Merges split-K partials: out = Σ_s acc_s e^(m_s - M) / Σ_s sum_s e^(m_s - M), M = max_s m_s. */
export function attentionCombineWgsl(headDim: number): string {
  const stride = partialStride(headDim);
  return /* wgsl */ `
struct Params { items: u32, splits: u32 }
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const HEAD_DIM = ${headDim}u;
const STRIDE = ${stride}u;

@compute @workgroup_size(${COMBINE_WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * ${COMBINE_WORKGROUP}u;
  if (index >= params.items * HEAD_DIM) { return; }
  let item = index / HEAD_DIM;
  let d = index % HEAD_DIM;
  let base = item * params.splits * STRIDE;
  var best = partials[base + HEAD_DIM];
  for (var s = 1u; s < params.splits; s++) { best = max(best, partials[base + s * STRIDE + HEAD_DIM]); }
  var num = 0.0;
  var den = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    let w = exp(partials[base + s * STRIDE + HEAD_DIM] - best);
    num += partials[base + s * STRIDE + d] * w;
    den += partials[base + s * STRIDE + HEAD_DIM + 1u] * w;
  }
  out[index] = num / den;
}`;
}

export function encodeAttention(ctx: GpuContext, pass: GPUComputePassEncoder, args: AttentionArgs) {
  const c = args.cache.config;
  const { tokens, heads } = args;
  const qOffset = args.qOffset ?? 0;
  const qTokenStride = args.qTokenStride ?? heads * c.headDim;
  for (const [name, value] of Object.entries({ tokens, heads, qOffset, qTokenStride })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`attention: ${name} must be a non-negative integer, got ${value}`);
  }
  if (heads === 0 || heads % c.kvHeads !== 0) throw new Error(`attention: ${heads} query heads is not a positive multiple of ${c.kvHeads} kv heads`);
  if (qTokenStride < heads * c.headDim) throw new Error(`attention: qTokenStride ${qTokenStride} is smaller than heads × head_dim = ${heads * c.headDim}`);
  const qReach = tokens === 0 ? 0 : qOffset + (tokens - 1) * qTokenStride + heads * c.headDim;
  if (args.q.size < qReach * 4) throw new Error(`attention: q holds ${args.q.size / 4} f32 values but ${tokens} tokens reach ${qReach}`);
  if (args.out.size < tokens * heads * c.headDim * 4) throw new Error(`attention: out holds fewer than ${tokens * heads * c.headDim} f32 values`);
  if (args.slots.size < tokens * 4 || args.positions.size < tokens * 4) throw new Error(`attention: slots and positions must hold ${tokens} u32 values`);
  if (args.out === args.q) throw new Error('attention: out must be a separate buffer from q');
  const splits = args.split?.splits ?? 1;
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (!Number.isInteger(splits) || splits < 1 || splits > limit) throw new Error(`attention: splits must be an integer in [1, ${limit}], got ${splits}`);
  const split = args.split !== undefined && splits > 1;
  if (split && args.split!.scratch.size < attentionScratchBytes(tokens, heads, c.headDim, splits)) {
    throw new Error(
      `attention: split-K scratch holds ${args.split!.scratch.size} bytes, fewer than the ${attentionScratchBytes(tokens, heads, c.headDim, splits)} needed`,
    );
  }
  const shape = { f16: c.dtype === 'f16', split, heads, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: c.maxSeq, qOffset, qTokenStride };
  const serial = args.kernel === 'serial';
  const pipeline = ctx.pipeline(serial ? attentionSerialWgsl(shape) : attentionWgsl(shape));
  const target = split ? args.split!.scratch : args.out;
  const items = tokens * heads;
  const x = Math.min(items, limit);
  const threadGroups = ceilDiv(items * (split ? splits : 1), SERIAL_WORKGROUP);
  const sx = Math.min(threadGroups, limit);
  for (const chunk of args.cache.chunksOf(args.layer)) {
    const bindings = [args.q, chunk.k, chunk.v, target, args.slots, args.positions];
    if (serial)
      ctx.dispatch(pass, pipeline, [...bindings, ctx.params([tokens, chunk.slotBase, chunk.slotCount, split ? splits : 1])], [sx, ceilDiv(threadGroups, sx)]);
    else ctx.dispatch(pass, pipeline, [...bindings, ctx.params([tokens, chunk.slotBase, chunk.slotCount])], [x, ceilDiv(items, x), split ? splits : 1]);
  }
  if (split) {
    const groups = ceilDiv(items * c.headDim, COMBINE_WORKGROUP);
    const gx = Math.min(groups, limit);
    ctx.dispatch(pass, ctx.pipeline(attentionCombineWgsl(c.headDim)), [args.split!.scratch, args.out, ctx.params([items, splits])], [gx, ceilDiv(groups, gx)]);
  }
}

/**
 * CPU reference over a CPU cache: q contiguous [tokens, heads, headDim] → [tokens, heads, headDim].
 * Plain two-pass softmax in f64.
 */
export function attentionCpu(q: Float32Array, cache: KvCacheCpu, slots: ArrayLike<number>, positions: ArrayLike<number>, heads: number): Float32Array {
  const { kvHeads, headDim, maxSeq } = cache.config;
  if (heads % kvHeads !== 0) throw new Error(`attentionCpu: ${heads} heads is not a multiple of ${kvHeads} kv heads`);
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(slots.length * heads * headDim);
  for (let t = 0; t < slots.length; t++) {
    const keys = Math.min(positions[t], maxSeq - 1) + 1;
    for (let h = 0; h < heads; h++) {
      const qBase = (t * heads + h) * headDim;
      const scores = new Float64Array(keys);
      for (let j = 0; j < keys; j++) {
        const kBase = cache.index(slots[t], Math.floor(h / group), j);
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qBase + d] * cache.k[kBase + d];
        scores[j] = dot * scale;
      }
      let max = -Infinity;
      for (const score of scores) max = Math.max(max, score);
      let sum = 0;
      for (let j = 0; j < keys; j++) sum += scores[j] = Math.exp(scores[j] - max);
      const acc = new Float64Array(headDim);
      for (let j = 0; j < keys; j++) {
        const vBase = cache.index(slots[t], Math.floor(h / group), j);
        for (let d = 0; d < headDim; d++) acc[d] += (scores[j] / sum) * cache.v[vBase + d];
      }
      out.set(acc, qBase);
    }
  }
  return out;
}
