// The GRPO trainer: rollouts from the engine (batched, LoRA on), rewards from an environment,
// group-normalised advantages, and a clipped policy-ratio objective with an optional KL to the
// base policy, optimised with AdamW on the GPU. One `step()` is one batch of prompts:
//   rollout → old (and reference) log-probs → `epochs` × (forward, backward over micro-batches,
//   optimizer step).
// Each rollout is one token sequence (a multi-turn episode: prompt, sampled turns, tool and
// verifier answers in between); only the tokens the policy sampled carry loss weight, so prompts,
// tool outputs, verifier answers, template tokens and padding are never trained.
import type { QwenEngine } from '../../engine/engine';
import { generate, type GeneratedSequence } from '../../engine/generate';
import type { LoraAdapter } from '../model/lora-adapter';
import { TrainingModel } from '../model/train-model';
import { grpoTrainPlan } from '../model/train-plan';
import { AdamW } from '../optim/optimizer';
import { groupAdvantages } from './objective';
import type { GrpoConfig } from './config';
import { planMicroBatches, policyGradientPass, type PolicySample } from './policy-pass';

/**
 * One training sequence of a rollout: its token ids and, per position, 1 where the policy sampled
 * the token (every turn's output, including the stop token it generated) and 0 elsewhere.
 */
export interface RolloutSequence {
  ids: number[];
  sampled: Uint8Array;
}

export interface Rollout {
  /** Rollouts of the same prompt share a group (advantages are normalised within it). */
  group: number;
  /**
   * The episode's tokens: normally ONE sequence holding every turn; more only where the chat
   * template re-rendered earlier turns differently from what the model saw (each sequence is then
   * exactly the context its sampled tokens were generated in).
   */
  sequences: RolloutSequence[];
  reward: number;
  /** Anything the environment wants to report per rollout (cell, outcome, ...). */
  info?: Record<string, unknown>;
}

/** A single-turn rollout's sequence: the prompt (not trained) then the generated ids (trained). */
export function promptCompletionSequence(promptIds: readonly number[], completionIds: readonly number[]): RolloutSequence {
  const sampled = new Uint8Array(promptIds.length + completionIds.length);
  sampled.fill(1, promptIds.length);
  return { ids: [...promptIds, ...completionIds], sampled };
}

/** The sampled stretches of a sequence, in order: one per model turn. */
export function sampledRuns(sequence: RolloutSequence): number[][] {
  const runs: number[][] = [];
  sequence.ids.forEach((id, t) => {
    if (!sequence.sampled[t]) return;
    if (t === 0 || !sequence.sampled[t - 1]) runs.push([]);
    runs[runs.length - 1].push(id);
  });
  return runs;
}

/** Tokens the policy sampled in a rollout (all sequences). */
export function sampledTokenCount(rollout: Rollout): number {
  return rollout.sequences.reduce((n, s) => n + s.sampled.reduce((m, v) => m + v, 0), 0);
}

/** Generates one turn for each request with the current policy (LoRA on), batched. */
export type PolicyGenerate = (requests: { promptIds: number[]; maxNewTokens: number; stopIds?: readonly number[] }[]) => Promise<GeneratedSequence[]>;

export interface RolloutEnvironment {
  /** `prompts` groups × `groupSize` rollouts each; `seed` makes the choice of prompts reproducible. */
  collect(args: { step: number; prompts: number; groupSize: number; seed: number; generate: PolicyGenerate; signal?: AbortSignal }): Promise<Rollout[]>;
  /** Per-step metrics from the rollouts (e.g. per-cell refusal and attack-success rates). */
  metrics?(rollouts: Rollout[]): Record<string, number>;
}

export interface StepMetrics {
  step: number;
  reward_mean: number;
  reward_std: number;
  kl: number;
  clip_fraction: number;
  grad_norm: number;
  skipped_updates: number;
  tokens: number;
  samples_truncated: number;
  tokens_per_second: number;
  time_rollout_s: number;
  time_forward_backward_s: number;
  time_optimizer_s: number;
  time_step_s: number;
  [key: string]: number;
}

/** Where a step is, for progress displays: rollout turn k (tokens sampled so far), micro-batch k of n, optimizer. */
export type StepProgress =
  | { phase: 'rollout'; turn: number; tokens: number }
  | { phase: 'forward-backward'; epoch: number; microBatch: number; microBatches: number }
  | { phase: 'optimizer'; epoch: number };

export class GrpoTrainer {
  readonly model: TrainingModel;
  readonly optimizer: AdamW;
  stepCount = 0;
  readonly history: StepMetrics[] = [];
  /** The last step's rollouts and their advantages (for sample trajectories in the UI). */
  lastRollouts: { rollout: Rollout; advantage: number }[] = [];
  /** Optional progress inside a step (UI only; nothing in the step depends on it). */
  onProgress?: (p: StepProgress) => void;

  constructor(
    readonly engine: QwenEngine,
    readonly adapter: LoraAdapter,
    readonly env: RolloutEnvironment,
    readonly config: GrpoConfig,
  ) {
    if (!Number.isInteger(config.microBatch) || config.microBatch < 1) throw new Error(`micro-batch must be ≥ 1, got ${config.microBatch}`);
    // Shared-prefix packing puts a group (or as much of it as fits) in one long row.
    this.model = new TrainingModel(engine, adapter, grpoTrainPlan(config));
    this.optimizer = new AdamW(engine.ctx, adapter.parameters(), { lr: config.lr, weightDecay: config.weightDecay, maxGradNorm: config.maxGradNorm });
  }

  /** Rollout accounting of the current step (prefill vs. decode, prompt tokens vs. prefilled). */
  private rolloutStats = { prefillSeconds: 0, decodeSeconds: 0, promptTokens: 0, prefilledTokens: 0, generatedTokens: 0 };

  private generateFn(signal?: AbortSignal): PolicyGenerate {
    const { engine, config } = this;
    let turn = 0,
      tokens = 0;
    const stats = (this.rolloutStats = { prefillSeconds: 0, decodeSeconds: 0, promptTokens: 0, prefilledTokens: 0, generatedTokens: 0 });
    return async (requests) => {
      const progress = this.onProgress;
      progress?.({ phase: 'rollout', turn: ++turn, tokens });
      engine.setAdapter(this.adapter);
      const out: GeneratedSequence[] = [];
      for (let i = 0; i < requests.length; i += engine.options.maxBatch) {
        const batch = requests.slice(i, i + engine.options.maxBatch);
        const onToken = () => {
          if (progress) progress({ phase: 'rollout', turn, tokens: ++tokens });
        };
        const timing = { prefillSeconds: 0, decodeSeconds: 0 };
        const generated = await generate(
          engine,
          batch.map((r) => ({ ...r, maxNewTokens: Math.min(r.maxNewTokens, engine.options.maxContext - r.promptIds.length) })),
          {
            temperature: config.temperature,
            topP: config.topP,
            topK: 0,
            seed: (config.seed * 1_000_003 + this.stepCount * 7919 + i) >>> 0,
          },
          { signal, onToken, prefixCache: config.sharePrefix, timing },
        );
        stats.prefillSeconds += timing.prefillSeconds;
        stats.decodeSeconds += timing.decodeSeconds;
        batch.forEach((r, k) => {
          stats.promptTokens += r.promptIds.length;
          stats.prefilledTokens += generated[k].promptReuse?.prefilled ?? r.promptIds.length;
          stats.generatedTokens += generated[k].ids.length;
        });
        out.push(...generated);
      }
      return out;
    };
  }

  /** Runs one GRPO step and returns its metrics. */
  async step(signal?: AbortSignal): Promise<StepMetrics> {
    const { config } = this;
    const tStart = performance.now();
    const rollouts = await this.env.collect({
      step: this.stepCount,
      prompts: config.promptsPerStep,
      groupSize: config.groupSize,
      seed: config.seed + this.stepCount,
      generate: this.generateFn(signal),
      signal,
    });
    const tRollout = performance.now();
    const rewards = rollouts.map((r) => r.reward);
    const advantages = groupAdvantages(
      rewards,
      rollouts.map((r) => r.group),
    );
    this.lastRollouts = rollouts.map((rollout, i) => ({ rollout, advantage: advantages[i] }));

    // Every rollout sequence is trained once, carrying its rollout's advantage. A sequence longer
    // than the training context is cut to it (its sampled tokens past the cut are not trained).
    const samples: PolicySample[] = [];
    let truncated = 0;
    rollouts.forEach((r, i) => {
      for (const seq of r.sequences) {
        if (seq.sampled.length !== seq.ids.length)
          throw new Error(`rollout ${i}: a sequence has ${seq.ids.length} ids but ${seq.sampled.length} sampled flags`);
        let ids = seq.ids;
        if (ids.length > config.maxSequenceTokens) {
          truncated++;
          ids = ids.slice(0, config.maxSequenceTokens);
        }
        const positions: number[] = [];
        // Position 0 has no prediction (nothing precedes it), so it can never be trained.
        for (let t = 1; t < ids.length; t++) if (seq.sampled[t]) positions.push(t);
        if (positions.length > 0) samples.push({ ids, positions, advantage: advantages[i], group: r.group });
      }
    });
    // THE loss normalisation: every token term is divided by the number of sampled tokens trained
    // in the whole step (token-level mean over the step, see objective.ts).
    const tokens = samples.reduce((n, s) => n + s.positions.length, 0);
    const batches = planMicroBatches(samples, { share: config.sharePrefix, microBatch: config.microBatch, rowTokens: this.model.plan.seqLen });

    let klSum = 0;
    let clippedCount = 0;
    let gradNorm = 0;
    let skipped = 0;
    let timeOptimizer = 0;
    let processed = { tokensProcessed: 0, unpackedTokens: 0, timeReference: 0, timeForward: 0, timeBackward: 0 };
    for (let epoch = 0; epoch < config.epochs && tokens > 0; epoch++) {
      const zero = this.engine.ctx.device.createCommandEncoder();
      this.adapter.encodeZeroGrad(zero);
      this.engine.ctx.device.queue.submit([zero.finish()]);
      const totals = await policyGradientPass(this.model, batches, { clipEps: config.clipEps, klBeta: config.klBeta, tokensInStep: tokens, epoch }, (k) => {
        this.onProgress?.({ phase: 'forward-backward', epoch, microBatch: k + 1, microBatches: batches.length });
      });
      if (epoch === config.epochs - 1) {
        klSum = totals.klSum;
        clippedCount = totals.clipped;
      }
      if (epoch === 0) processed = totals;
      const tOpt = performance.now();
      this.onProgress?.({ phase: 'optimizer', epoch });
      const report = await this.optimizer.step();
      timeOptimizer += (performance.now() - tOpt) / 1000;
      gradNorm = report.gradNorm;
      if (report.skipped) skipped++;
    }
    const tEnd = performance.now();
    const mean = rewards.reduce((a, b) => a + b, 0) / Math.max(1, rewards.length);
    const metrics: StepMetrics = {
      step: this.stepCount,
      reward_mean: mean,
      reward_std: Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, rewards.length)),
      kl: tokens ? klSum / tokens : 0,
      clip_fraction: tokens ? clippedCount / tokens : 0,
      grad_norm: gradNorm,
      skipped_updates: skipped,
      tokens,
      train_tokens_processed: processed.tokensProcessed,
      train_tokens_unpacked: processed.unpackedTokens,
      time_ref_logprobs_s: processed.timeReference,
      time_policy_forward_s: processed.timeForward,
      time_backward_s: processed.timeBackward,
      rollout_prompt_tokens: this.rolloutStats.promptTokens,
      rollout_prefilled_tokens: this.rolloutStats.prefilledTokens,
      rollout_generated_tokens: this.rolloutStats.generatedTokens,
      time_rollout_prefill_s: this.rolloutStats.prefillSeconds,
      time_rollout_decode_s: this.rolloutStats.decodeSeconds,
      samples_truncated: truncated,
      tokens_per_second: rollouts.reduce((n, r) => n + sampledTokenCount(r), 0) / Math.max(1e-3, (tRollout - tStart) / 1000),
      time_rollout_s: (tRollout - tStart) / 1000,
      time_forward_backward_s: (tEnd - tRollout) / 1000 - timeOptimizer,
      time_optimizer_s: timeOptimizer,
      time_step_s: (tEnd - tStart) / 1000,
      ...this.env.metrics?.(rollouts),
    };
    this.stepCount++;
    this.history.push(metrics);
    return metrics;
  }

  destroy() {
    this.model.destroy();
    this.optimizer.destroy();
  }
}
