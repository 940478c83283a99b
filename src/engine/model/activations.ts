// Activation buffers for one forward pass of up to `maxTokens` tokens, planned once up front and
// reused by every step (llm.c style): no allocation on the decode path.
// Their sizes are the engine's size table (buffer-plan.ts); this module only creates them from it.
import type { ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../gpu/context';
import { createPlanned } from '../gpu/planned';
import { planActivations, plannedBuffers } from './buffer-plan';

export { LOGITS_BUDGET_BYTES, planLogitRows } from './buffer-plan';

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

export function createActivations(ctx: GpuContext, config: ModelConfig, maxTokens: number, maxLogitRows: number): Activations {
  const plan = plannedBuffers(planActivations(config, maxTokens, maxLogitRows), 'activations');
  const make = (name: string) => createPlanned(ctx, plan.take(name));
  const acts: Activations = {
    maxTokens,
    maxLogitRows,
    ids: make('ids'),
    slots: make('slots'),
    positions: make('positions'),
    logitRows: make('logitRows'),
    residual: make('residual'),
    normed: make('normed'),
    qkv: make('qkv'),
    attention: make('attention'),
    gateUp: make('gateUp'),
    mlpHidden: make('mlpHidden'),
    logits: make('logits'),
    attentionScratch: make('attention split-K scratch'),
    samplingParams: make('samplingParams'),
    sampledTokens: make('sampledTokens'),
    sampledLogprobs: make('sampledLogprobs'),
    sampleReadback: make('sample readback'),
  };
  plan.done();
  return acts;
}

export function destroyActivations(ctx: GpuContext, a: Activations) {
  for (const b of [
    a.ids,
    a.slots,
    a.positions,
    a.logitRows,
    a.residual,
    a.normed,
    a.qkv,
    a.attention,
    a.gateUp,
    a.mlpHidden,
    a.logits,
    a.attentionScratch,
    a.samplingParams,
    a.sampledTokens,
    a.sampledLogprobs,
  ])
    ctx.destroy(b);
  a.sampleReadback.destroy();
  ctx.clearBindGroups();
}
