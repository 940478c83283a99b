// Activation buffers for one forward pass of up to `maxTokens` tokens, planned once up front and
// reused by every step (llm.c style): no allocation on the decode path.
import type { ModelConfig } from '../../model/config';
import type { GpuContext } from '../gpu/context';
import { SAMPLING_PARAM_WORDS } from '../ops/sampling';
import { maxAttentionScratchBytes } from '../ops/attention';

// WebGPU flag values (fixed by the spec), so this module needs no globals.
const MAP_READ = 0x01;
const COPY_DST = 0x08;

export interface Activations {
  maxTokens: number;
  /** Rows of logits the buffer can hold (≤ maxTokens). */
  maxLogitRows: number;
  /** u32 [maxTokens] inputs of a step: token ids, cache slot and position of each token. */
  ids: GPUBuffer;
  slots: GPUBuffer;
  positions: GPUBuffer;
  /** u32 [maxLogitRows]: which token rows get logits (e.g. the last token of each sequence). */
  logitRows: GPUBuffer;
  /** Residual stream [T, hidden]. */
  residual: GPUBuffer;
  /** Normalized input to a block [T, hidden]. */
  normed: GPUBuffer;
  /** Fused q|k|v [T, (heads + 2·kvHeads)·headDim]. */
  qkv: GPUBuffer;
  /** Attention output [T, heads·headDim]. */
  attention: GPUBuffer;
  /** Fused gate|up [T, 2·intermediate]. */
  gateUp: GPUBuffer;
  /** silu(gate)·up [T, intermediate]. */
  mlpHidden: GPUBuffer;
  /** [maxLogitRows, vocab]. */
  logits: GPUBuffer;
  /** Split-K attention partials for decode steps over long contexts (see ops/attention.ts). */
  attentionScratch: GPUBuffer;
  /** Sampling, per logit row: packed params (SAMPLING_PARAM_WORDS u32), chosen ids, 2 log-probs. */
  samplingParams: GPUBuffer;
  sampledTokens: GPUBuffer;
  sampledLogprobs: GPUBuffer;
  /** MAP_READ staging for one step's ids (at 0) and log-probs (at maxLogitRows·4): the only readback of a decode step. */
  sampleReadback: GPUBuffer;
}

/** Bytes the logits buffer may take before logit rows are capped (the vocabulary is 151936 wide). */
export const LOGITS_BUDGET_BYTES = 64 * 2 ** 20;

/**
 * Logit rows to plan for: every sequence of a batch must fit (generation samples one row per
 * sequence), and beyond that only what fits in LOGITS_BUDGET_BYTES. A full-vocabulary row per
 * prefill token would be 311 MB at 512 tokens for Qwen; full-logits callers (QwenEngine.logits)
 * step through their tokens this many at a time instead.
 */
export function planLogitRows(config: Pick<ModelConfig, 'vocabSize'>, maxBatch: number, maxTokens: number): number {
  return Math.min(maxTokens, Math.max(maxBatch, Math.floor(LOGITS_BUDGET_BYTES / (config.vocabSize * 4))));
}

export function activationBytes(config: ModelConfig, maxTokens: number, maxLogitRows: number): number {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V } = config;
  const perToken = 4 * (4 + 2 * H + (nH + 2 * nKv) * d + nH * d + 3 * I);
  return maxTokens * perToken + maxLogitRows * 4 * (V + 1 + SAMPLING_PARAM_WORDS + 3) + maxAttentionScratchBytes(d);
}

export function createActivations(ctx: GpuContext, config: ModelConfig, maxTokens: number, maxLogitRows: number): Activations {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V } = config;
  const f32 = (label: string, n: number) => ctx.createBuffer(label, n * 4, 'activations');
  return {
    maxTokens,
    maxLogitRows,
    ids: f32('ids', maxTokens),
    slots: f32('slots', maxTokens),
    positions: f32('positions', maxTokens),
    logitRows: f32('logitRows', maxLogitRows),
    residual: f32('residual', maxTokens * H),
    normed: f32('normed', maxTokens * H),
    qkv: f32('qkv', maxTokens * (nH + 2 * nKv) * d),
    attention: f32('attention', maxTokens * nH * d),
    gateUp: f32('gateUp', maxTokens * 2 * I),
    mlpHidden: f32('mlpHidden', maxTokens * I),
    logits: f32('logits', maxLogitRows * V),
    attentionScratch: ctx.createBuffer('attention split-K scratch', maxAttentionScratchBytes(d), 'activations'),
    samplingParams: f32('samplingParams', maxLogitRows * SAMPLING_PARAM_WORDS),
    sampledTokens: f32('sampledTokens', maxLogitRows),
    sampledLogprobs: f32('sampledLogprobs', maxLogitRows * 2),
    sampleReadback: ctx.device.createBuffer({ label: 'sample readback', size: maxLogitRows * 12, usage: MAP_READ | COPY_DST }),
  };
}

export function destroyActivations(ctx: GpuContext, a: Activations) {
  for (const b of [a.ids, a.slots, a.positions, a.logitRows, a.residual, a.normed, a.qkv, a.attention, a.gateUp, a.mlpHidden, a.logits, a.attentionScratch, a.samplingParams, a.sampledTokens, a.sampledLogprobs]) ctx.destroy(b);
  a.sampleReadback.destroy();
  ctx.clearBindGroups();
}
