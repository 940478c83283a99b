// Barrier-free ("serial") training attention: the forward (out, lse) and the two backward passes
// (dQ; dK, dV) of attention-backward-forward.ts and attention-backward.ts, each with ONE THREAD per
// output row and no workgroup memory or barrier, for CPU-emulated GPUs (GpuContext.preferBarrierFree).
//
// Why: SwiftShader runs a workgroup that contains a barrier as coroutines switching at every
// barrier. The tiled kernels synchronise three or four times per 64-key tile, and at the demo
// agent's training shape (4 heads of 32, packed rows of ~1–2k tokens) that made attention ~70% of
// a training step's time at ~0.13 GFLOP/s, a fifth of what the same adapter reaches on a GEMM.
// A thread that walks its keys alone does the same arithmetic with nothing to wait for. On a real
// GPU the tiled kernels stay: they share q/k in workgroup memory and fill wide SIMD lanes.
//
// The math is the tiled kernels' (and the f64 CPU references'), only the summation order differs:
//   forward  thread (token, head):   online softmax over the token's visible keys (running max m,
//                                    sum s, Σ e^(score−m)·v), out = acc / s, lse = m + log s;
//   dQ       thread (token, head):   dS_j = P_j (dO·v_j − D), dQ = Σ_j dS_j k_j / √d;
//   dK, dV   thread (key, kv head):  over the query heads of its group and the queries that see the
//                                    key (query_end from the segment table), dV = Σ P·dO and
//                                    dK = Σ dS·q / √d.
// D = rowsum(dO ⊙ O) comes from the tiled path's own barrier-free delta kernel. Every output element
// is written by one thread, nothing is atomic: deterministic, like the tiled kernels.
import {
  attentionConstants,
  backwardBindings,
  forwardBindings,
  gradConstants,
  gridFor,
  QUERY_ROW_SETUP,
  type AttentionTrainShape,
  type QkvLayout,
} from './attention-backward-common';

/** Threads per workgroup (small: SwiftShader runs a workgroup on one core). */
export const SERIAL_ATTENTION_WORKGROUP = 16;

/** Which implementation of the training attention kernels to run. */
export type AttentionTrainKernel = 'tiled' | 'serial';

/** The kernel a device should run when the caller does not say: serial where barriers are expensive. */
export function defaultAttentionTrainKernel(preferBarrierFree: boolean): AttentionTrainKernel {
  return preferBarrierFree ? 'serial' : 'tiled';
}

/** Thread index of a serial kernel (x-major over a 2-D grid of workgroups). */
const THREAD_INDEX = /* wgsl */ `gid.x + gid.y * groups.x * ${SERIAL_ATTENTION_WORKGROUP}u`;

/** The token's visible keys and the kv rows of its head (the tiled kernels' setup), and its q row. */
const QUERY_SETUP = /* wgsl */ `${QUERY_ROW_SETUP}
  let q_row = Q_OFF + token * STRIDE + head * HEAD_DIM;`;

export function attentionTrainForwardSerialWgsl(s: AttentionTrainShape, layout: QkvLayout, masked = false): string {
  return /* wgsl */ `${attentionConstants(s, layout)}
${forwardBindings(masked)}

@compute @workgroup_size(${SERIAL_ATTENTION_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let item = ${THREAD_INDEX};
  if (item >= params.tokens * HEADS) { return; }${QUERY_SETUP}
  // Zeroed explicitly: SwiftShader may keep a var's value from an earlier loop iteration.
  var q: array<f32, HEAD_DIM>;
  var acc: array<f32, HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) {
    q[d] = qkv[q_row + d];
    acc[d] = 0.0;
  }
  var running_max = NEG_BIG;
  var running_sum = 0.0;
  for (var j = 0u; j < keys; j++) {
    let key = key_token(j, first, pre, seg) * STRIDE;
    var dot = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) { dot += q[d] * qkv[k_base + key + d]; }
    let score = dot * SCALE;
    if (score > running_max) {
      let correction = exp(running_max - score);
      running_sum = running_sum * correction + 1.0;
      for (var d = 0u; d < HEAD_DIM; d++) { acc[d] = acc[d] * correction + qkv[v_base + key + d]; }
      running_max = score;
    } else {
      let p = exp(score - running_max);
      running_sum += p;
      for (var d = 0u; d < HEAD_DIM; d++) { acc[d] += p * qkv[v_base + key + d]; }
    }
  }
  let dst = item * HEAD_DIM;
  for (var d = 0u; d < HEAD_DIM; d++) { out[dst + d] = acc[d] / running_sum; }
  lse[item] = running_max + log(running_sum);
}`;
}

/** The backward kernels' header: the tiled kernels' constants and bindings (one bind group serves either). */
function backwardHeader(s: AttentionTrainShape, layout: QkvLayout, grad: QkvLayout, masked: boolean): string {
  return `${attentionConstants(s, layout)}${gradConstants(grad)}\n${backwardBindings(masked)}`;
}

export function attentionDqSerialWgsl(s: AttentionTrainShape, layout: QkvLayout, grad: QkvLayout, masked = false): string {
  return /* wgsl */ `${backwardHeader(s, layout, grad, masked)}

@compute @workgroup_size(${SERIAL_ATTENTION_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let item = ${THREAD_INDEX};
  if (item >= params.tokens * HEADS) { return; }${QUERY_SETUP}
  var q: array<f32, HEAD_DIM>;
  var d_o: array<f32, HEAD_DIM>;
  var acc: array<f32, HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) {
    q[d] = qkv[q_row + d];
    d_o[d] = d_out[item * HEAD_DIM + d];
    acc[d] = 0.0;
  }
  let row_lse = lse[item];
  let row_delta = delta[item];
  for (var j = 0u; j < keys; j++) {
    let key = key_token(j, first, pre, seg) * STRIDE;
    var score = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < HEAD_DIM; d++) {
      score += q[d] * qkv[k_base + key + d];
      dp += d_o[d] * qkv[v_base + key + d];
    }
    let ds = exp(score * SCALE - row_lse) * (dp - row_delta);
    for (var d = 0u; d < HEAD_DIM; d++) { acc[d] += ds * qkv[k_base + key + d]; }
  }
  let dst = DQ_OFF + token * D_STRIDE + head * HEAD_DIM;
  for (var d = 0u; d < HEAD_DIM; d++) { dqkv[dst + d] = acc[d] * SCALE; }
}`;
}

export function attentionDkvSerialWgsl(s: AttentionTrainShape, layout: QkvLayout, grad: QkvLayout, masked = false): string {
  return /* wgsl */ `${backwardHeader(s, layout, grad, masked)}

@compute @workgroup_size(${SERIAL_ATTENTION_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let item = ${THREAD_INDEX};
  if (item >= params.tokens * KV_HEADS) { return; }
  let key = item / KV_HEADS;
  let kv_head = item % KV_HEADS;
  // Query tokens key..query_end-1 see this key (the rest of its sequence, or of its segment).
  let queries = query_end(key, key - key % params.seq_len) - key;
  var k: array<f32, HEAD_DIM>;
  var v: array<f32, HEAD_DIM>;
  var acc_k: array<f32, HEAD_DIM>;
  var acc_v: array<f32, HEAD_DIM>;
  for (var d = 0u; d < HEAD_DIM; d++) {
    k[d] = qkv[K_OFF + key * STRIDE + kv_head * HEAD_DIM + d];
    v[d] = qkv[V_OFF + key * STRIDE + kv_head * HEAD_DIM + d];
    acc_k[d] = 0.0;
    acc_v[d] = 0.0;
  }
  for (var h = 0u; h < GROUP; h++) {
    let head = kv_head * GROUP + h;
    for (var c = 0u; c < queries; c++) {
      let i = key + c;
      let row = i * HEADS + head;
      let q_row = Q_OFF + i * STRIDE + head * HEAD_DIM;
      var score = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < HEAD_DIM; d++) {
        score += qkv[q_row + d] * k[d];
        dp += d_out[row * HEAD_DIM + d] * v[d];
      }
      let p = exp(score * SCALE - lse[row]);
      let ds = p * (dp - delta[row]);
      for (var d = 0u; d < HEAD_DIM; d++) {
        acc_v[d] += p * d_out[row * HEAD_DIM + d];
        acc_k[d] += ds * qkv[q_row + d];
      }
    }
  }
  for (var d = 0u; d < HEAD_DIM; d++) {
    dqkv[DK_OFF + key * D_STRIDE + kv_head * HEAD_DIM + d] = acc_k[d] * SCALE;
    dqkv[DV_OFF + key * D_STRIDE + kv_head * HEAD_DIM + d] = acc_v[d];
  }
}`;
}

/** [x, y] workgroups for one serial thread per item. */
export function serialGrid(items: number, limit: number): [number, number] {
  return gridFor(Math.max(1, Math.ceil(items / SERIAL_ATTENTION_WORKGROUP)), limit);
}
