// Training-time causal GQA attention forward (no KV cache), which also saves each row's softmax
// log-sum-exp for the backward (attention-backward.ts).
//
// Why not the inference kernel: it reads K/V from the KvCache layout [slot][kvHead][pos][dim], so
// training would first have to copy K/V of every layer into a cache-shaped buffer (maxSeq ≥ T per
// sequence), and it does not output the softmax statistics. This kernel reads K/V straight from the
// fused qkv buffer instead; its loop is the same online softmax (one workgroup per (token, head),
// one key per thread per tile of 64, head_dim spread over the threads for the V accumulation, in
// key groups when head_dim is short: see engine/ops/attention-lanes.ts).
//
// Saved for backward: out [tokens, heads, headDim] (also o_proj's input) and lse [tokens, heads]
// (4 bytes per (token, head): 1/headDim of `out`). Probabilities are recomputed in backward as
// exp(q·k/√d − lse), so no [T, T] matrix is ever stored.
import type { GpuContext } from '../../engine/gpu/context';
import { attentionLanes } from '../../engine/ops/attention-lanes';
import {
  ATTENTION_WORKGROUP,
  attentionConstants,
  forwardBindings,
  QUERY_ROW_SETUP,
  checkLayout,
  checkSegments,
  checkShape,
  checkSize,
  gridFor,
  tokensOf,
  visibleKeys,
  type AttentionTrainShape,
  type QkvLayout,
} from './attention-backward-common';
import { attentionTrainForwardSerialWgsl, defaultAttentionTrainKernel, serialGrid, type AttentionTrainKernel } from './attention-train-serial';

export interface AttentionTrainForwardArgs {
  shape: AttentionTrainShape;
  /** Q, K, V (after RoPE), read through `layout`. */
  qkv: GPUBuffer;
  layout: QkvLayout;
  /** Written: contiguous f32 [tokens, heads, headDim]. */
  out: GPUBuffer;
  /** Written: f32 [tokens, heads], log Σ_j exp(score_j) of each softmax row. */
  lse: GPUBuffer;
  /** Optional u32 segment table (attention-backward-common.ts `segmentTable`); default causal. */
  segments?: GPUBuffer;
  /** Default: serial on CPU-emulated GPUs (attention-train-serial.ts), tiled elsewhere. */
  kernel?: AttentionTrainKernel;
}

export function attentionTrainForwardWgsl(s: AttentionTrainShape, layout: QkvLayout, masked = false): string {
  const { keyGroups } = attentionLanes(s.headDim, ATTENTION_WORKGROUP);
  return /* wgsl */ `${attentionConstants(s, layout)}
${forwardBindings(masked)}

var<workgroup> q_s: array<f32, HEAD_DIM>;
var<workgroup> scores: array<f32, TILE>;
var<workgroup> group_max: array<f32, KEY_GROUPS>;
var<workgroup> part_max: array<f32, KEY_GROUPS>;
var<workgroup> part_sum: array<f32, KEY_GROUPS>;
var<workgroup> part_acc: array<f32, ${keyGroups * s.headDim}>;

@compute @workgroup_size(${ATTENTION_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wg.x + wg.y * groups.x;
  if (item >= params.tokens * HEADS) { return; }${QUERY_ROW_SETUP}
  // Key group kg takes keys kg, kg + KEY_GROUPS, ... of each tile; lane dl owns dims dl + c·DIM_LANES.
  let kg = lid / DIM_LANES;
  let dl = lid % DIM_LANES;
  for (var d = lid; d < HEAD_DIM; d += WG) { q_s[d] = qkv[Q_OFF + token * STRIDE + head * HEAD_DIM + d]; }
  workgroupBarrier();

  var running_max = NEG_BIG;
  var running_sum = 0.0;
  var acc: array<f32, DIMS_PER_THREAD>;
  for (var tile = 0u; tile < keys; tile += TILE) {
    let j = tile + lid;
    var score = NEG_BIG;
    if (j < keys) {
      var dot = 0.0;
      let k_row = k_base + key_token(j, first, pre, seg) * STRIDE;
      for (var d = 0u; d < HEAD_DIM; d++) { dot += q_s[d] * qkv[k_row + d]; }
      score = dot * SCALE;
    }
    scores[lid] = score;
    workgroupBarrier();
    let count = min(TILE, keys - tile);
    var tile_max = NEG_BIG;
    for (var i = kg; i < count; i += KEY_GROUPS) { tile_max = max(tile_max, scores[i]); }
    let new_max = max(running_max, tile_max);
    if (dl == 0u) { group_max[kg] = new_max; }
    workgroupBarrier();
    // Each thread exponentiates its own key once, against the max of the group that owns the key.
    scores[lid] = select(0.0, exp(score - group_max[lid % KEY_GROUPS]), j < keys);
    workgroupBarrier();
    let correction = exp(running_max - new_max);
    running_sum *= correction;
    for (var c = 0u; c < DIMS_PER_THREAD; c++) { acc[c] *= correction; }
    for (var i = kg; i < count; i += KEY_GROUPS) {
      let p = scores[i];
      running_sum += p;
      let row = v_base + key_token(tile + i, first, pre, seg) * STRIDE;
      for (var c = 0u; c < DIMS_PER_THREAD; c++) {
        let d = dl + c * DIM_LANES;
        if (d < HEAD_DIM) { acc[c] += p * qkv[row + d]; }
      }
    }
    running_max = new_max;
    workgroupBarrier();
  }
  // Merge the key groups' softmax states (max, sum, weighted V) with the usual max rescaling.
  for (var c = 0u; c < DIMS_PER_THREAD; c++) {
    let d = dl + c * DIM_LANES;
    if (d < HEAD_DIM) { part_acc[kg * HEAD_DIM + d] = acc[c]; }
  }
  if (dl == 0u) {
    part_max[kg] = running_max;
    part_sum[kg] = running_sum;
  }
  workgroupBarrier();
  var row_max = NEG_BIG;
  for (var g = 0u; g < KEY_GROUPS; g++) { row_max = max(row_max, part_max[g]); }
  var total = 0.0;
  for (var g = 0u; g < KEY_GROUPS; g++) { total += part_sum[g] * exp(part_max[g] - row_max); }
  let dst = (token * HEADS + head) * HEAD_DIM;
  for (var d = lid; d < HEAD_DIM; d += WG) {
    var num = 0.0;
    for (var g = 0u; g < KEY_GROUPS; g++) { num += part_acc[g * HEAD_DIM + d] * exp(part_max[g] - row_max); }
    out[dst + d] = num / total;
  }
  if (lid == 0u) { lse[token * HEADS + head] = row_max + log(total); }
}`;
}

export function encodeAttentionTrainForward(ctx: GpuContext, pass: GPUComputePassEncoder, args: AttentionTrainForwardArgs) {
  const op = 'attentionTrainForward';
  const s = args.shape;
  checkShape(op, s);
  checkLayout(op, 'qkv', args.layout, s, args.qkv);
  const tokens = tokensOf(s);
  checkSize(op, 'out', args.out, tokens * s.heads * s.headDim, 'tokens × heads × headDim');
  checkSize(op, 'lse', args.lse, tokens * s.heads, 'tokens × heads');
  if (args.out === args.qkv || args.lse === args.qkv || args.out === args.lse) throw new Error(`${op}: qkv, out and lse must be three different buffers`);
  checkSegments(op, args.segments, s);
  const serial = (args.kernel ?? defaultAttentionTrainKernel(ctx.preferBarrierFree)) === 'serial';
  const wgsl = serial ? attentionTrainForwardSerialWgsl : attentionTrainForwardWgsl;
  const pipeline = ctx.pipeline(wgsl(s, args.layout, !!args.segments));
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const grid = serial ? serialGrid(tokens * s.heads, limit) : gridFor(tokens * s.heads, limit);
  const bindings = [args.qkv, args.out, args.lse, ctx.params([tokens, s.seqLen])];
  ctx.dispatch(pass, pipeline, args.segments ? [...bindings, args.segments] : bindings, grid);
}

/**
 * CPU reference in float64: returns out [tokens, heads, headDim] and lse [tokens, heads].
 * `segments`: the optional segment table (u32 [tokens × 4]); default causal.
 */
export function attentionTrainForwardCpu(
  qkv: ArrayLike<number>,
  s: AttentionTrainShape,
  layout: QkvLayout,
  segments?: ArrayLike<number>,
): { out: Float64Array; lse: Float64Array } {
  checkShape('attentionTrainForwardCpu', s);
  const { heads, headDim: d, seqLen } = s;
  const group = heads / s.kvHeads;
  const scale = 1 / Math.sqrt(d);
  const tokens = tokensOf(s);
  const out = new Float64Array(tokens * heads * d);
  const lse = new Float64Array(tokens * heads);
  for (let t = 0; t < tokens; t++) {
    const first = t - (t % seqLen);
    const keys = visibleKeys(segments, t, t - first).map((j) => first + j);
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const q = layout.qOffset + t * layout.tokenStride + h * d;
      const scores = keys.map((j) => {
        const k = layout.kOffset + j * layout.tokenStride + g * d;
        let dot = 0;
        for (let i = 0; i < d; i++) dot += qkv[q + i] * qkv[k + i];
        return dot * scale;
      });
      const max = Math.max(...scores);
      let sum = 0;
      for (const sc of scores) sum += Math.exp(sc - max);
      lse[t * heads + h] = max + Math.log(sum);
      for (let n = 0; n < keys.length; n++) {
        const p = Math.exp(scores[n] - lse[t * heads + h]);
        const v = layout.vOffset + keys[n] * layout.tokenStride + g * d;
        for (let i = 0; i < d; i++) out[(t * heads + h) * d + i] += p * qkv[v + i];
      }
    }
  }
  return { out, lse };
}
