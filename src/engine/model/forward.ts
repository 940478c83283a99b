// The Qwen forward pass on the GPU: one flat sequence of op encodings, mirroring
// src/engine/reference/qwen-cpu.ts line for line. It records into a caller's compute pass and
// never submits or reads back, so a whole decode step is one command buffer.
import type { ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../gpu/context';
import { encodeAttention, planAttention } from '../ops/attention';
import { encodeEmbedding } from '../ops/embedding';
import { encodeKvWrite, type KvCache } from '../ops/kv-cache';
import { encodeMatmul } from '../ops/matmul';
import { encodeRmsNorm } from '../ops/rmsnorm';
import { encodeRope } from '../ops/rope';
import { encodeSwiglu } from '../ops/swiglu';
import type { Activations } from './activations';
import type { QwenWeights } from './qwen-weights';
import { encodeLoraForward } from '../ops/lora';
import type { LoraTarget } from '../ops/lora-targets';
import type { LoraInferenceAdapter } from './lora-view';

/**
 * LoRA applied in the same passes as the frozen base: after each adapted base matmul, the
 * adapter adds (alpha/r)·B·A·x into that module's columns. `u` is scratch [maxTokens, rank].
 * Omit it for the base (reference) policy.
 */
export interface ForwardLora {
  adapter: LoraInferenceAdapter;
  u: GPUBuffer;
}

export interface ForwardStep {
  /** Tokens in this step (all sequences together); their ids/slots/positions are in the buffers. */
  tokens: number;
  /** Rows of logits to compute, selected by activations.logitRows; 0 skips the LM head. */
  logitRows: number;
  /**
   * Most keys any token of the step attends to (its position + 1). When given, steps with few
   * tokens (decode) split each token's keys over several workgroups (split-K, "flash decoding"),
   * so a long context keeps the GPU busy with one sequence (on CPU-emulated GPUs: one thread per
   * range, no barriers; see planAttention); omitted, attention runs unsplit.
   */
  maxKeys?: number;
}

export function encodeForward(
  ctx: GpuContext,
  pass: GPUComputePassEncoder,
  config: ModelConfig,
  w: QwenWeights,
  cache: KvCache,
  a: Activations,
  step: ForwardStep,
  lora?: ForwardLora,
) {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, rmsNormEps: eps } = config;
  const T = step.tokens;
  if (T < 1 || T > a.maxTokens) throw new Error(`forward: ${T} tokens in one step, the plan allows 1..${a.maxTokens}`);
  if (step.logitRows > a.maxLogitRows) throw new Error(`forward: ${step.logitRows} logit rows, the plan allows ${a.maxLogitRows}`);
  const qkvWidth = (nH + 2 * nKv) * d;
  const kOffset = nH * d;
  const vOffset = (nH + nKv) * d;
  const { kernel: attentionKernel, splits } = step.maxKeys
    ? planAttention(T, nH, step.maxKeys, ctx.preferBarrierFree)
    : { kernel: 'tiled' as const, splits: 1 };
  const split = splits > 1 ? { splits, scratch: a.attentionScratch } : undefined;

  encodeEmbedding(ctx, pass, { table: w.embedding, ids: a.ids, out: a.residual, count: T });
  w.layers.forEach((layer, l) => {
    const adapted = lora?.adapter.byLayer[l];
    const addLora = (target: LoraTarget, x: GPUBuffer, y: GPUBuffer) => {
      const m = adapted?.get(target);
      if (m) encodeLoraForward(ctx, pass, { lora: m, x, m: T, u: lora!.u, y, ySlice: m.layout.slice });
    };
    // Attention block: x += o_proj(attention(rope(norm(qkv_proj(rmsnorm(x)))))).
    encodeRmsNorm(ctx, pass, { x: a.residual, out: a.normed, weight: layer.inputNorm, rows: T, length: H, eps });
    encodeMatmul(ctx, pass, { x: a.normed, weight: layer.qkv, bias: layer.qkvBias, y: a.qkv, m: T });
    for (const t of ['q_proj', 'k_proj', 'v_proj'] as const) addLora(t, a.normed, a.qkv);
    if (layer.qNorm && layer.kNorm) {
      encodeRmsNorm(ctx, pass, { x: a.qkv, weight: layer.qNorm, rows: T, groups: nH, length: d, rowStride: qkvWidth, eps });
      encodeRmsNorm(ctx, pass, { x: a.qkv, weight: layer.kNorm, rows: T, groups: nKv, length: d, offset: kOffset, rowStride: qkvWidth, eps });
    }
    encodeRope(ctx, pass, { x: a.qkv, table: w.rope, positions: a.positions, tokens: T, heads: nH, tokenStride: qkvWidth });
    encodeRope(ctx, pass, { x: a.qkv, table: w.rope, positions: a.positions, tokens: T, heads: nKv, offset: kOffset, tokenStride: qkvWidth });
    encodeKvWrite(ctx, pass, {
      cache,
      layer: l,
      k: a.qkv,
      v: a.qkv,
      kOffset,
      vOffset,
      tokenStride: qkvWidth,
      slots: a.slots,
      positions: a.positions,
      tokens: T,
    });
    encodeAttention(ctx, pass, {
      cache,
      layer: l,
      q: a.qkv,
      qTokenStride: qkvWidth,
      out: a.attention,
      slots: a.slots,
      positions: a.positions,
      tokens: T,
      heads: nH,
      split,
      kernel: attentionKernel,
    });
    encodeMatmul(ctx, pass, { x: a.attention, weight: layer.o, bias: layer.oBias, y: a.residual, m: T, accumulate: true });
    addLora('o_proj', a.attention, a.residual);
    // MLP block: x += down_proj(silu(gate_proj(h)) · up_proj(h)), h = rmsnorm(x).
    encodeRmsNorm(ctx, pass, { x: a.residual, out: a.normed, weight: layer.postNorm, rows: T, length: H, eps });
    encodeMatmul(ctx, pass, { x: a.normed, weight: layer.gateUp, y: a.gateUp, m: T });
    for (const t of ['gate_proj', 'up_proj'] as const) addLora(t, a.normed, a.gateUp);
    encodeSwiglu(ctx, pass, { gate: a.gateUp, out: a.mlpHidden, tokens: T, intermediate: I });
    encodeMatmul(ctx, pass, { x: a.mlpHidden, weight: layer.down, y: a.residual, m: T, accumulate: true });
    addLora('down_proj', a.mlpHidden, a.residual);
  });
  if (step.logitRows > 0) {
    encodeRmsNorm(ctx, pass, { x: a.residual, out: a.normed, weight: w.finalNorm, rows: T, length: H, eps });
    encodeMatmul(ctx, pass, { x: a.normed, weight: w.lmHead, y: a.logits, m: step.logitRows, xRows: { indices: a.logitRows } });
  }
}
