// The GRPO-step benchmark (DOM-free): an engine with stand-in weights of a model's exact shape, a
// LoRA adapter on all 7 target modules, AdamW, and a GrpoTrainer over fixed-length rollouts
// (prompt + new tokens = the sequence length). It reports the time split of a step (rollout,
// forward-backward, optimizer), tokens/s, and PEAK GPU memory from real allocations (see
// memory-probe.ts), checked against a limit (2 GB).
//
// `planOnly` builds everything a step holds (engine with maxBatch = G and maxContext = seqLen,
// the training model's plan, adapter, optimizer state), then makes the two allocations a step makes
// after construction: the engine's inference LoRA scratch (setAdapter, done by every rollout) and
// the one transient readback of each training forward (log-probs, rows × 4 bytes, made here with a
// real read of that size). It runs no step: on a software adapter a 0.5B step takes hours.
// Not counted in plan-only: the per-dispatch uniform buffers the first step creates (cached by value;
// a full run counts them, see `gpu_memory_peak_bytes.untracked_uniforms` there).
import type { ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../../engine/gpu/context';
import { QwenEngine } from '../../engine/engine';
import type { TensorProvider } from '../../engine/model/qwen-weights';
import type { WeightFormat } from '../../engine/quant/formats';
import { resolveGrpoConfig } from '../grpo/config';
import { GrpoTrainer, sampledTokenCount, type StepMetrics } from '../grpo/trainer';
import { LoraAdapter } from '../model/lora-adapter';
import { LORA_TARGETS } from '../../engine/ops/lora-targets';
import { FixedLengthEnvironment } from './fixed-length-env';
import { GpuMemoryProbe, type MemorySnapshot } from './memory-probe';
import { tiledWeights } from './tiled-weights';

/** The budget, in decimal gigabytes (stricter than 2 GiB = 2·1024³). */
export const GRPO_MEMORY_LIMIT_BYTES = 2e9;

export interface GrpoBenchOptions {
  config: ModelConfig;
  /** Name for the report (e.g. the shape's name). */
  label: string;
  /** Default: tiledWeights(config). */
  weights?: TensorProvider;
  format: WeightFormat;
  rank: number;
  /** G: rollouts per prompt; also the engine's maxBatch. */
  groupSize: number;
  /** Prompts (groups) per step. */
  prompts: number;
  /** Prompt + generated tokens of every rollout; also the engine's context and the training plan's T. */
  seqLen: number;
  promptTokens: number;
  microBatch: number;
  recompute: boolean;
  klBeta: number;
  warmupSteps: number;
  steps: number;
  planOnly: boolean;
  seed?: number;
  limitBytes?: number;
  /** Shared-prefix training (default off here: one row per rollout, the bench's historical setting). */
  sharePrefix?: boolean;
  /** Tokens of a packed training row when sharing (default: the trainer's). */
  packedRowTokens?: number;
}

export interface GrpoBenchReport {
  mode: 'plan-only' | 'steps';
  model: string;
  quant: WeightFormat;
  lora: { rank: number; alpha: number; targets: string[] };
  group_size: number;
  prompts_per_step: number;
  seq_len: number;
  prompt_tokens: number;
  new_tokens: number;
  micro_batch: number;
  recompute: boolean;
  share_prefix: boolean;
  kl_beta: number;
  engine: { max_batch: number; max_context: number; max_step_tokens: number };
  train_rows_per_micro_batch: number;
  build_seconds: number;
  warmup_steps: number;
  steps: number;
  /** Means over the measured steps (absent in plan-only mode). */
  time_s?: { rollout: number; forward_backward: number; optimizer: number; step: number };
  /** Generated tokens per second of rollout (the trainer's tokens_per_second). */
  rollout_tokens_per_s?: number;
  /** Generated (= trained) tokens per second of whole step. */
  step_tokens_per_s?: number;
  completion_tokens_per_step?: number;
  /** True when every rollout generated exactly new_tokens tokens. */
  completions_full_length?: boolean;
  reward_mean?: number;
  grad_norm?: number;
  per_step?: Pick<StepMetrics, 'time_rollout_s' | 'time_forward_backward_s' | 'time_optimizer_s' | 'time_step_s' | 'tokens_per_second' | 'tokens'>[];
  /** Live GPU buffers at the moment their total peaked (build, and steps when run). */
  gpu_memory_peak_bytes: MemorySnapshot;
  limit_bytes: number;
  fits_2gb: boolean;
  memory_notes: string;
}

const MEMORY_NOTES =
  'Peak of every live GPU buffer (GpuContext categories plus buffers created on the device directly: parameter uniforms and readback staging). ' +
  'Not counted: pipelines, bind groups, driver-internal upload staging and allocation rounding. ' +
  'Plan-only: all planned buffers plus the inference LoRA scratch and one log-prob readback of a training forward; the per-dispatch uniforms of a first step are not included.';

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function checkOptions(o: GrpoBenchOptions) {
  const positive = {
    rank: o.rank,
    groupSize: o.groupSize,
    prompts: o.prompts,
    seqLen: o.seqLen,
    promptTokens: o.promptTokens,
    microBatch: o.microBatch,
  } as const;
  for (const [k, v] of Object.entries(positive)) if (!Number.isInteger(v) || v < 1) throw new Error(`GRPO bench: ${k} must be a positive integer, got ${v}`);
  if (o.groupSize < 2) throw new Error('GRPO bench: groupSize must be at least 2');
  if (o.promptTokens >= o.seqLen) throw new Error(`GRPO bench: prompt tokens (${o.promptTokens}) must be fewer than the sequence length (${o.seqLen})`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw new Error(`GRPO bench: warm-up steps must be ≥ 0, got ${o.warmupSteps}`);
  if (!o.planOnly && (!Number.isInteger(o.steps) || o.steps < 1)) throw new Error(`GRPO bench: steps must be a positive integer, got ${o.steps}`);
}

/** Builds engine, adapter, optimizer and trainer on `ctx` (a fresh GpuContext), runs, and frees everything. */
export async function runGrpoBench(ctx: GpuContext, options: GrpoBenchOptions): Promise<GrpoBenchReport> {
  checkOptions(options);
  const { config, format, rank, groupSize, prompts, seqLen, promptTokens, microBatch, planOnly } = options;
  const newTokens = seqLen - promptTokens;
  const limitBytes = options.limitBytes ?? GRPO_MEMORY_LIMIT_BYTES;
  const grpo = resolveGrpoConfig({
    groupSize,
    promptsPerStep: prompts,
    maxNewTokens: newTokens,
    klBeta: options.klBeta,
    seed: options.seed ?? 0,
    epochs: 1,
    lora: { rank, alpha: 2 * rank, targets: [...LORA_TARGETS] },
    microBatch,
    maxSequenceTokens: seqLen,
    recompute: options.recompute,
    sharePrefix: options.sharePrefix ?? false,
    ...(options.packedRowTokens ? { packedRowTokens: options.packedRowTokens } : {}),
  });
  const probe = new GpuMemoryProbe(ctx);
  const device = ctx.device;
  let engine: QwenEngine | undefined;
  let adapter: LoraAdapter | undefined;
  let trainer: GrpoTrainer | undefined;
  try {
    const buildStart = performance.now();
    // WebGPU reports failed allocations through error scopes, not exceptions.
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let errors: (GPUError | null)[];
    try {
      engine = await QwenEngine.create(ctx, config, options.weights ?? tiledWeights(config), { format, maxContext: seqLen, maxBatch: groupSize });
      adapter = new LoraAdapter(ctx, config, grpo.lora);
      adapter.initialise(grpo.seed + 1);
      trainer = new GrpoTrainer(engine, adapter, new FixedLengthEnvironment(promptTokens, newTokens, config.vocabSize), grpo);
      if (planOnly) {
        engine.setAdapter(adapter);
        await ctx.read(engine.acts.logits, trainer.model.rows * 4);
      }
      await device.queue.onSubmittedWorkDone();
    } finally {
      // Popped even when building threw, so the device's scope stack stays balanced.
      errors = [await device.popErrorScope(), await device.popErrorScope()];
    }
    const [validation, oom] = errors;
    if (oom) throw new Error(`GRPO bench: the GPU ran out of memory building the step (${oom.message})`);
    if (validation) throw new Error(`GRPO bench: building the step failed validation (${validation.message})`);
    const buildSeconds = (performance.now() - buildStart) / 1000;

    const measured: StepMetrics[] = [];
    const completionLengths: number[] = [];
    if (!planOnly) {
      for (let s = 0; s < options.warmupSteps + options.steps; s++) {
        const m = await trainer.step();
        if (s >= options.warmupSteps) {
          measured.push(m);
          for (const { rollout } of trainer.lastRollouts) completionLengths.push(sampledTokenCount(rollout));
        }
      }
    }
    const peak = probe.peak;
    const report: GrpoBenchReport = {
      mode: planOnly ? 'plan-only' : 'steps',
      model: options.label,
      quant: format,
      lora: { rank, alpha: grpo.lora.alpha, targets: [...grpo.lora.targets] },
      group_size: groupSize,
      prompts_per_step: prompts,
      seq_len: seqLen,
      prompt_tokens: promptTokens,
      new_tokens: newTokens,
      micro_batch: microBatch,
      recompute: options.recompute,
      share_prefix: grpo.sharePrefix,
      kl_beta: options.klBeta,
      engine: { max_batch: engine.options.maxBatch, max_context: engine.options.maxContext, max_step_tokens: engine.options.maxStepTokens },
      train_rows_per_micro_batch: trainer.model.rows,
      build_seconds: buildSeconds,
      warmup_steps: planOnly ? 0 : options.warmupSteps,
      steps: measured.length,
      gpu_memory_peak_bytes: peak,
      limit_bytes: limitBytes,
      fits_2gb: peak.total <= limitBytes,
      memory_notes: MEMORY_NOTES,
    };
    if (!planOnly) {
      const completionTokens = completionLengths.reduce((a, b) => a + b, 0) / measured.length;
      const stepSeconds = mean(measured.map((m) => m.time_step_s));
      Object.assign(report, {
        time_s: {
          rollout: mean(measured.map((m) => m.time_rollout_s)),
          forward_backward: mean(measured.map((m) => m.time_forward_backward_s)),
          optimizer: mean(measured.map((m) => m.time_optimizer_s)),
          step: stepSeconds,
        },
        rollout_tokens_per_s: mean(measured.map((m) => m.tokens_per_second)),
        step_tokens_per_s: completionTokens / stepSeconds,
        completion_tokens_per_step: completionTokens,
        completions_full_length: completionLengths.every((n) => n === newTokens),
        reward_mean: mean(measured.map((m) => m.reward_mean)),
        grad_norm: measured[measured.length - 1].grad_norm,
        per_step: measured.map(({ time_rollout_s, time_forward_backward_s, time_optimizer_s, time_step_s, tokens_per_second, tokens }) => ({
          time_rollout_s,
          time_forward_backward_s,
          time_optimizer_s,
          time_step_s,
          tokens_per_second,
          tokens,
        })),
      });
    }
    return report;
  } finally {
    trainer?.destroy();
    adapter?.destroy();
    engine?.destroy();
    probe.dispose();
  }
}
