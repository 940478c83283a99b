// Backward of the training attention (attention-backward-forward.ts): causal GQA over B packed
// sequences of T tokens, no KV cache. With P = softmax(Q·Kᵀ/√d + causal mask) per (token, head),
// O = P·V and upstream gradient dO:
//   dV = Pᵀ·dO;  dP = dO·Vᵀ;  dS = P ⊙ (dP − D), D = rowsum(dO ⊙ O);  dQ = dS·K/√d;  dK = dSᵀ·Q/√d
// and for GQA a kv head's dK/dV sum over the query heads that share it.
//
// P is recomputed from the saved lse (P = exp(q·k/√d − lse)), so the backward needs only what the
// forward already keeps: qkv, out and lse, plus one scratch float per (token, head) for D.
// Three dispatches:
//   1. D[token, head] = dO·O, one thread per (token, head);
//   2. dQ: one workgroup per (query token, head) streams that token's keys in tiles of 64
//      (one key per thread: score, dP, dS), then accumulates dS·K over head_dim;
//   3. dK, dV: one workgroup per (key token, kv head) streams the later query tokens that see it
//      (the rest of its sequence, or of its segment when packed with a segment table) for each
//      query head of the group, accumulating P·dO and dS·Q.
// Short head_dims split the accumulation into key (query) groups as in the forward
// (engine/ops/attention-lanes.ts). Work is O(T²·d) per head in both 2 and 3, like the forward; nothing is atomic and every output
// element is written by exactly one thread, so results are deterministic.
//
// dQ, dK, dV are WRITTEN (not accumulated) into a QkvLayout view, normally the fused d(qkv).
import type { GpuContext } from '../../engine/gpu/context';
import { attentionLanes } from '../../engine/ops/attention-lanes';
import {
  ATTENTION_WORKGROUP,
  attentionConstants,
  backwardBindings,
  gradConstants,
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
import { attentionDkvSerialWgsl, attentionDqSerialWgsl, defaultAttentionTrainKernel, serialGrid, type AttentionTrainKernel } from './attention-train-serial';

export interface AttentionBackwardArgs {
  shape: AttentionTrainShape;
  /** The forward's inputs, through `layout`. */
  qkv: GPUBuffer;
  layout: QkvLayout;
  /** The forward's outputs: out [tokens, heads, headDim] and lse [tokens, heads]. */
  out: GPUBuffer;
  lse: GPUBuffer;
  /** Gradient of `out`, contiguous [tokens, heads, headDim]. */
  dOut: GPUBuffer;
  /** Scratch f32 [tokens, heads] (D = rowsum(dO ⊙ O)). */
  delta: GPUBuffer;
  /** Written: dQ, dK, dV through `gradLayout` (default `layout`); must not be `qkv`. */
  dqkv: GPUBuffer;
  gradLayout?: QkvLayout;
  /** The forward's segment table, if it had one (attention-backward-common.ts); default causal. */
  segments?: GPUBuffer;
  /** Default: serial on CPU-emulated GPUs (attention-train-serial.ts), tiled elsewhere. */
  kernel?: AttentionTrainKernel;
}

export function attentionDeltaWgsl(s: AttentionTrainShape): string {
  return /* wgsl */ `
struct Params { rows: u32 }
@group(0) @binding(0) var<storage, read> out: array<f32>;
@group(0) @binding(1) var<storage, read> d_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> delta: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
const HEAD_DIM = ${s.headDim}u;

@compute @workgroup_size(${ATTENTION_WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = id.x + id.y * groups.x * ${ATTENTION_WORKGROUP}u;
  if (row >= params.rows) { return; }
  var sum = 0.0;
  for (var d = 0u; d < HEAD_DIM; d++) { sum += out[row * HEAD_DIM + d] * d_out[row * HEAD_DIM + d]; }
  delta[row] = sum;
}`;
}

export function attentionDqWgsl(s: AttentionTrainShape, layout: QkvLayout, grad: QkvLayout, masked = false): string {
  return /* wgsl */ `${attentionConstants(s, layout)}${gradConstants(grad)}
${backwardBindings(masked)}

var<workgroup> q_s: array<f32, HEAD_DIM>;
var<workgroup> do_s: array<f32, HEAD_DIM>;
var<workgroup> ds_s: array<f32, TILE>;
var<workgroup> part: array<f32, ${attentionLanes(s.headDim, ATTENTION_WORKGROUP).keyGroups * s.headDim}>;

@compute @workgroup_size(${ATTENTION_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wg.x + wg.y * groups.x;
  if (item >= params.tokens * HEADS) { return; }${QUERY_ROW_SETUP}
  // Key group kg takes keys kg, kg + KEY_GROUPS, ... of each tile; lane dl owns dims dl + c·DIM_LANES.
  let kg = lid / DIM_LANES;
  let dl = lid % DIM_LANES;
  for (var d = lid; d < HEAD_DIM; d += WG) {
    q_s[d] = qkv[Q_OFF + token * STRIDE + head * HEAD_DIM + d];
    do_s[d] = d_out[item * HEAD_DIM + d];
  }
  let row_lse = lse[item];
  let row_delta = delta[item];
  workgroupBarrier();

  var acc: array<f32, DIMS_PER_THREAD>;
  for (var tile = 0u; tile < keys; tile += TILE) {
    let j = tile + lid;
    var ds = 0.0;
    if (j < keys) {
      var score = 0.0;
      var dp = 0.0;
      let key = key_token(j, first, pre, seg) * STRIDE;
      for (var d = 0u; d < HEAD_DIM; d++) {
        score += q_s[d] * qkv[k_base + key + d];
        dp += do_s[d] * qkv[v_base + key + d];
      }
      let p = exp(score * SCALE - row_lse);
      ds = p * (dp - row_delta);
    }
    ds_s[lid] = ds;
    workgroupBarrier();
    let count = min(TILE, keys - tile);
    for (var i = kg; i < count; i += KEY_GROUPS) {
      let row = k_base + key_token(tile + i, first, pre, seg) * STRIDE;
      for (var c = 0u; c < DIMS_PER_THREAD; c++) {
        let d = dl + c * DIM_LANES;
        if (d < HEAD_DIM) { acc[c] += ds_s[i] * qkv[row + d]; }
      }
    }
    workgroupBarrier();
  }
  // Sum the key groups' partial dQ.
  for (var c = 0u; c < DIMS_PER_THREAD; c++) {
    let d = dl + c * DIM_LANES;
    if (d < HEAD_DIM) { part[kg * HEAD_DIM + d] = acc[c]; }
  }
  workgroupBarrier();
  for (var d = lid; d < HEAD_DIM; d += WG) {
    var sum = 0.0;
    for (var g = 0u; g < KEY_GROUPS; g++) { sum += part[g * HEAD_DIM + d]; }
    dqkv[DQ_OFF + token * D_STRIDE + head * HEAD_DIM + d] = sum * SCALE;
  }
}`;
}

export function attentionDkvWgsl(s: AttentionTrainShape, layout: QkvLayout, grad: QkvLayout, masked = false): string {
  return /* wgsl */ `${attentionConstants(s, layout)}${gradConstants(grad)}
${backwardBindings(masked)}

var<workgroup> k_s: array<f32, HEAD_DIM>;
var<workgroup> v_s: array<f32, HEAD_DIM>;
var<workgroup> p_s: array<f32, TILE>;
var<workgroup> ds_s: array<f32, TILE>;
var<workgroup> part_k: array<f32, ${attentionLanes(s.headDim, ATTENTION_WORKGROUP).keyGroups * s.headDim}>;
var<workgroup> part_v: array<f32, ${attentionLanes(s.headDim, ATTENTION_WORKGROUP).keyGroups * s.headDim}>;

@compute @workgroup_size(${ATTENTION_WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wg.x + wg.y * groups.x;
  if (item >= params.tokens * KV_HEADS) { return; }
  let key = item / KV_HEADS;
  let kv_head = item % KV_HEADS;
  // Query tokens key..query_end-1 see this key (the rest of its sequence, or of its segment).
  let queries = query_end(key, key - key % params.seq_len) - key;
  // Query group qg takes queries qg, qg + KEY_GROUPS, ... of each tile; lane dl owns dims dl + c·DIM_LANES.
  let qg = lid / DIM_LANES;
  let dl = lid % DIM_LANES;
  for (var d = lid; d < HEAD_DIM; d += WG) {
    k_s[d] = qkv[K_OFF + key * STRIDE + kv_head * HEAD_DIM + d];
    v_s[d] = qkv[V_OFF + key * STRIDE + kv_head * HEAD_DIM + d];
  }
  workgroupBarrier();

  var acc_k: array<f32, DIMS_PER_THREAD>;
  var acc_v: array<f32, DIMS_PER_THREAD>;
  for (var h = 0u; h < GROUP; h++) {
    let head = kv_head * GROUP + h;
    for (var tile = 0u; tile < queries; tile += TILE) {
      var p = 0.0;
      var ds = 0.0;
      if (tile + lid < queries) {
        let i = key + tile + lid;
        let row = i * HEADS + head;
        var score = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < HEAD_DIM; d++) {
          score += qkv[Q_OFF + i * STRIDE + head * HEAD_DIM + d] * k_s[d];
          dp += d_out[row * HEAD_DIM + d] * v_s[d];
        }
        p = exp(score * SCALE - lse[row]);
        ds = p * (dp - delta[row]);
      }
      p_s[lid] = p;
      ds_s[lid] = ds;
      workgroupBarrier();
      let count = min(TILE, queries - tile);
      for (var c = qg; c < count; c += KEY_GROUPS) {
        let i = key + tile + c;
        let q_row = Q_OFF + i * STRIDE + head * HEAD_DIM;
        let do_row = (i * HEADS + head) * HEAD_DIM;
        for (var e = 0u; e < DIMS_PER_THREAD; e++) {
          let d = dl + e * DIM_LANES;
          if (d < HEAD_DIM) {
            acc_v[e] += p_s[c] * d_out[do_row + d];
            acc_k[e] += ds_s[c] * qkv[q_row + d];
          }
        }
      }
      workgroupBarrier();
    }
  }
  // Sum the query groups' partial dK and dV.
  for (var e = 0u; e < DIMS_PER_THREAD; e++) {
    let d = dl + e * DIM_LANES;
    if (d < HEAD_DIM) {
      part_k[qg * HEAD_DIM + d] = acc_k[e];
      part_v[qg * HEAD_DIM + d] = acc_v[e];
    }
  }
  workgroupBarrier();
  for (var d = lid; d < HEAD_DIM; d += WG) {
    var sum_k = 0.0;
    var sum_v = 0.0;
    for (var g = 0u; g < KEY_GROUPS; g++) {
      sum_k += part_k[g * HEAD_DIM + d];
      sum_v += part_v[g * HEAD_DIM + d];
    }
    dqkv[DK_OFF + key * D_STRIDE + kv_head * HEAD_DIM + d] = sum_k * SCALE;
    dqkv[DV_OFF + key * D_STRIDE + kv_head * HEAD_DIM + d] = sum_v;
  }
}`;
}

export function encodeAttentionBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: AttentionBackwardArgs) {
  const op = 'attentionBackward';
  const s = args.shape;
  checkShape(op, s);
  const layout = checkLayout(op, 'qkv', args.layout, s, args.qkv);
  const grad = checkLayout(op, 'dqkv', args.gradLayout ?? args.layout, s, args.dqkv);
  const tokens = tokensOf(s);
  const rows = tokens * s.heads;
  checkSize(op, 'out', args.out, rows * s.headDim, 'tokens × heads × headDim');
  checkSize(op, 'dOut', args.dOut, rows * s.headDim, 'tokens × heads × headDim');
  checkSize(op, 'lse', args.lse, rows, 'tokens × heads');
  checkSize(op, 'delta', args.delta, rows, 'tokens × heads');
  const inputs = { qkv: args.qkv, out: args.out, lse: args.lse, dOut: args.dOut };
  for (const [name, buffer] of Object.entries(inputs)) {
    if (buffer === args.dqkv || buffer === args.delta) throw new Error(`${op}: ${name} must not share a buffer with the outputs dqkv / delta`);
  }
  if (args.dqkv === args.delta) throw new Error(`${op}: dqkv and delta must be different buffers`);
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  checkSegments(op, args.segments, s);
  const params = ctx.params([tokens, s.seqLen]);
  ctx.dispatch(
    pass,
    ctx.pipeline(attentionDeltaWgsl(s)),
    [args.out, args.dOut, args.delta, ctx.params([rows])],
    gridFor(Math.ceil(rows / ATTENTION_WORKGROUP), limit),
  );
  const masked = !!args.segments;
  const bindings = [args.qkv, args.dOut, args.lse, args.delta, args.dqkv, params, ...(args.segments ? [args.segments] : [])];
  if ((args.kernel ?? defaultAttentionTrainKernel(ctx.preferBarrierFree)) === 'serial') {
    ctx.dispatch(pass, ctx.pipeline(attentionDqSerialWgsl(s, layout, grad, masked)), bindings, serialGrid(rows, limit));
    ctx.dispatch(pass, ctx.pipeline(attentionDkvSerialWgsl(s, layout, grad, masked)), bindings, serialGrid(tokens * s.kvHeads, limit));
    return;
  }
  ctx.dispatch(pass, ctx.pipeline(attentionDqWgsl(s, layout, grad, masked)), bindings, gridFor(rows, limit));
  ctx.dispatch(pass, ctx.pipeline(attentionDkvWgsl(s, layout, grad, masked)), bindings, gridFor(tokens * s.kvHeads, limit));
}

/**
 * CPU reference in float64: the gradient of Σ dOut ⊙ out(qkv) w.r.t. qkv, returned in the qkv
 * buffer's own layout (same length as `qkv`; entries outside Q/K/V stay 0). Recomputes the forward.
 */
export function attentionBackwardCpu(
  qkv: ArrayLike<number>,
  dOut: ArrayLike<number>,
  s: AttentionTrainShape,
  layout: QkvLayout,
  segments?: ArrayLike<number>,
): Float64Array {
  checkShape('attentionBackwardCpu', s);
  const { heads, headDim: d, seqLen } = s;
  const group = heads / s.kvHeads;
  const scale = 1 / Math.sqrt(d);
  const tokens = tokensOf(s);
  const grad = new Float64Array(qkv.length);
  const at = (offset: number, token: number, head: number) => offset + token * layout.tokenStride + head * d;
  for (let t = 0; t < tokens; t++) {
    const first = t - (t % seqLen);
    const keys = visibleKeys(segments, t, t - first).map((j) => first + j);
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const q = at(layout.qOffset, t, h);
      const dO = (t * heads + h) * d;
      const n = keys.length;
      const p = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const k = at(layout.kOffset, keys[j], g);
        let dot = 0;
        for (let i = 0; i < d; i++) dot += qkv[q + i] * qkv[k + i];
        p[j] = dot * scale;
      }
      const max = Math.max(...p);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += p[j] = Math.exp(p[j] - max);
      // dP_j = dO·v_j; D = Σ_j P_j dP_j (= dO·O); dS_j = P_j (dP_j − D).
      const dp = new Float64Array(n);
      let delta = 0;
      for (let j = 0; j < n; j++) {
        p[j] /= sum;
        const v = at(layout.vOffset, keys[j], g);
        for (let i = 0; i < d; i++) dp[j] += dOut[dO + i] * qkv[v + i];
        delta += p[j] * dp[j];
      }
      for (let j = 0; j < n; j++) {
        const ds = p[j] * (dp[j] - delta) * scale;
        const k = at(layout.kOffset, keys[j], g);
        const v = at(layout.vOffset, keys[j], g);
        for (let i = 0; i < d; i++) {
          grad[q + i] += ds * qkv[k + i];
          grad[k + i] += ds * qkv[q + i];
          grad[v + i] += p[j] * dOut[dO + i];
        }
      }
    }
  }
  return grad;
}
