// The GRPO-step benchmark on real sandbox episode shapes (`npm run bench -- --grpo --env sandbox`):
// test-split scenarios with the Qwen2.5 template (sandbox-episodes.ts), G rollouts per prompt,
// each step run with sharing ON (rollout prefix KV reuse in generate, shared-prefix packed
// training), OFF (every turn prefilled whole, one training row per rollout) and OFF PER TURN (as
// before issue #17: every turn prefilled whole and trained as its own sequence), on the same engine
// in the same run. It reports per phase (rollout prefill, decode, reference log-probs, policy
// forward = old log-probs, forward–backward, optimizer) and for the whole step: tokens processed,
// unique tokens, seconds, and the ON/OFF ratios (`step_speedup` = OFF step time / ON step time).
//
// The model: stand-in weights of a shape whose per-token cost splits between the layers and the
// LM head as Qwen2.5-0.5B's does (~2.6 : 1), with a reduced vocabulary (ids folded into it); on
// the real 151936-row vocabulary a tiny model spends nearly all its time in the LM head, which
// sharing does not change.
import { parseModelConfig, type ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../../engine/gpu/context';
import { QwenEngine } from '../../engine/engine';
import type { WeightFormat } from '../../engine/quant/formats';
import { resolveGrpoConfig } from '../grpo/config';
import { GrpoTrainer, type Rollout, type StepMetrics } from '../grpo/trainer';
import { LoraAdapter } from '../model/lora-adapter';
import { LORA_TARGETS } from '../../engine/ops/lora-targets';
import { sandboxEpisodeScripts, ScriptedEpisodeEnvironment } from './sandbox-episodes';
import { tiledWeights } from './tiled-weights';

const BASE = {
  architectures: ['Qwen2ForCausalLM'],
  max_position_embeddings: 32768,
  rope_theta: 1000000.0,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
  hidden_act: 'silu',
  eos_token_id: 1,
};

/** Shapes with Qwen2.5-0.5B's layers : LM-head cost split (see `costSplit`). */
export const SPLIT_SHAPES = {
  'split-256': { ...BASE, hidden_size: 256, intermediate_size: 1392, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 7600 },
  /** The same split at 1/16 of the cost, for software adapters. */
  'split-64': { ...BASE, hidden_size: 64, intermediate_size: 348, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 950 },
} as const;
export type SplitShapeName = keyof typeof SPLIT_SHAPES;

/** Matmul multiply-adds per token in the layers vs. the LM head (attention's T-dependent part aside). */
export function costSplit(c: ModelConfig): number {
  const perLayer = c.hiddenSize * (c.numHeads + 2 * c.numKvHeads) * c.headDim + c.numHeads * c.headDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  return (c.numLayers * perLayer) / (c.hiddenSize * c.vocabSize);
}

export interface SandboxBenchOptions {
  shape: SplitShapeName;
  format: WeightFormat;
  rank: number;
  groupSize: number;
  prompts: number;
  warmupSteps: number;
  steps: number;
  klBeta: number;
  seed?: number;
  /** Play the first test scenarios whose scripted episode has at least this many model turns (default 2). */
  minTurns?: number;
}

interface Phase {
  tokens_processed: number;
  unique_tokens: number;
  time_s: number;
}

interface ModeReport {
  share: boolean;
  /** Each model turn trained as its own sequence (the baseline before shared prefixes). */
  per_turn_sequences: boolean;
  phases: { rollout_prefill: Phase; decode: Phase; ref_logprobs: Phase; old_logprobs: Phase; forward_backward: Phase; optimizer: { time_s: number } };
  step: Phase;
  reward_mean: number;
  grad_norm: number;
}

/** Tokens of a step's rollouts counted once: each group's common prefix once, then every rest. */
export function uniqueTokens(rollouts: readonly Rollout[]): { all: number; sampled: number } {
  const groups = new Map<number, number[][]>();
  let sampled = 0;
  for (const r of rollouts) {
    for (const s of r.sequences) {
      groups.set(r.group, [...(groups.get(r.group) ?? []), s.ids]);
      sampled += s.sampled.reduce((a, b) => a + b, 0);
    }
  }
  let all = 0;
  for (const seqs of groups.values()) {
    let lcp = Math.min(...seqs.map((s) => s.length));
    for (const s of seqs) {
      let k = 0;
      while (k < lcp && s[k] === seqs[0][k]) k++;
      lcp = k;
    }
    all += lcp + seqs.reduce((n, s) => n + s.length - lcp, 0);
  }
  return { all, sampled };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function modeReport(mode: BenchMode, measured: { m: StepMetrics; rollouts: Rollout[] }[], klBeta: number): ModeReport {
  const avg = (f: (x: { m: StepMetrics; rollouts: Rollout[] }) => number) => mean(measured.map(f));
  // Per-turn sequences repeat earlier turns: the episode's tokens are its last (longest) sequence.
  const episodes = (rollouts: Rollout[]) => (mode.perTurn ? rollouts.map((r) => ({ ...r, sequences: r.sequences.slice(-1) })) : rollouts);
  const unique = avg((x) => uniqueTokens(episodes(x.rollouts)).all);
  const generated = avg((x) => x.m.rollout_generated_tokens);
  const train = avg((x) => x.m.train_tokens_processed);
  const passes = klBeta > 0 ? 2 : 1;
  const phases = {
    rollout_prefill: {
      tokens_processed: avg((x) => x.m.rollout_prefilled_tokens),
      unique_tokens: unique - generated,
      time_s: avg((x) => x.m.time_rollout_prefill_s),
    },
    decode: { tokens_processed: generated, unique_tokens: generated, time_s: avg((x) => x.m.time_rollout_decode_s) },
    ref_logprobs: { tokens_processed: klBeta > 0 ? train : 0, unique_tokens: klBeta > 0 ? unique : 0, time_s: avg((x) => x.m.time_ref_logprobs_s) },
    old_logprobs: { tokens_processed: train, unique_tokens: unique, time_s: avg((x) => x.m.time_policy_forward_s) },
    forward_backward: { tokens_processed: train, unique_tokens: unique, time_s: avg((x) => x.m.time_policy_forward_s + x.m.time_backward_s) },
    optimizer: { time_s: avg((x) => x.m.time_optimizer_s) },
  };
  return {
    share: mode.share,
    per_turn_sequences: mode.perTurn,
    phases,
    step: {
      tokens_processed: phases.rollout_prefill.tokens_processed + generated + passes * train,
      unique_tokens: phases.rollout_prefill.unique_tokens + generated + passes * unique,
      time_s: avg((x) => x.m.time_step_s),
    },
    reward_mean: avg((x) => x.m.reward_mean),
    grad_norm: measured[measured.length - 1].m.grad_norm,
  };
}

interface BenchMode {
  share: boolean;
  perTurn: boolean;
}

/** Sharing on; off (the trainer's --no-share-prefix); off with per-turn sequences (before issue #17). */
const BENCH_MODES: readonly BenchMode[] = [
  { share: true, perTurn: false },
  { share: false, perTurn: false },
  { share: false, perTurn: true },
];

export async function runSandboxGrpoBench(ctx: GpuContext, o: SandboxBenchOptions) {
  const config = parseModelConfig(SPLIT_SHAPES[o.shape], `${o.shape} shape`);
  const scripts = await sandboxEpisodeScripts({ count: o.prompts, minTurns: o.minTurns ?? 2 });
  const longest = Math.max(...scripts.map((s) => s.sequence.ids.length));
  const maxContext = Math.ceil((longest + 1) / 16) * 16;
  const engine = await QwenEngine.create(ctx, config, tiledWeights(config), { format: o.format, maxContext, maxBatch: o.groupSize * o.prompts });
  const modes: ModeReport[] = [];
  try {
    for (const mode of BENCH_MODES) {
      const share = mode.share;
      const env = new ScriptedEpisodeEnvironment(scripts, config.vocabSize, mode.perTurn);
      const grpo = resolveGrpoConfig({
        groupSize: o.groupSize,
        promptsPerStep: o.prompts,
        maxNewTokens: maxContext,
        klBeta: o.klBeta,
        seed: o.seed ?? 0,
        epochs: 1,
        lora: { rank: o.rank, alpha: 2 * o.rank, targets: [...LORA_TARGETS] },
        // The same token budget per micro-batch both ways: G rows of one rollout, or one packed row.
        microBatch: o.groupSize,
        maxSequenceTokens: maxContext,
        recompute: true,
        sharePrefix: share,
        packedRowTokens: o.groupSize * maxContext,
      });
      const adapter = new LoraAdapter(ctx, config, grpo.lora);
      adapter.initialise(1);
      const trainer = new GrpoTrainer(engine, adapter, env, grpo);
      try {
        const measured: { m: StepMetrics; rollouts: Rollout[] }[] = [];
        for (let s = 0; s < o.warmupSteps + o.steps; s++) {
          // Each step starts cold: no prompt K/V kept from an earlier step (a real run's prompts differ).
          engine.prefixCache.clear();
          const m = await trainer.step();
          if (s >= o.warmupSteps) measured.push({ m, rollouts: trainer.lastRollouts.map((r) => r.rollout) });
        }
        modes.push(modeReport(mode, measured, o.klBeta));
      } finally {
        trainer.destroy();
        adapter.destroy();
      }
    }
  } finally {
    engine.destroy();
  }
  const [on, off, perTurn] = modes;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  const speedups = (base: ModeReport) => ({
    tokens_processed: ratio(base.step.tokens_processed, on.step.tokens_processed),
    prefill_plus_forward_backward_speedup: ratio(
      base.phases.rollout_prefill.time_s + base.phases.forward_backward.time_s,
      on.phases.rollout_prefill.time_s + on.phases.forward_backward.time_s,
    ),
    rollout_prefill_speedup: ratio(base.phases.rollout_prefill.time_s, on.phases.rollout_prefill.time_s),
    forward_backward_speedup: ratio(base.phases.forward_backward.time_s, on.phases.forward_backward.time_s),
    step_speedup: ratio(base.step.time_s, on.step.time_s),
  });
  return {
    env: 'sandbox',
    shape: o.shape,
    model: {
      hidden: config.hiddenSize,
      layers: config.numLayers,
      heads: config.numHeads,
      kv_heads: config.numKvHeads,
      vocab: config.vocabSize,
      layers_to_lm_head_cost: costSplit(config),
    },
    quant: o.format,
    lora_rank: o.rank,
    group_size: o.groupSize,
    prompts_per_step: o.prompts,
    kl_beta: o.klBeta,
    episodes: scripts.map((s) => ({ scenario: s.scenario, tokens: s.sequence.ids.length, sampled: s.sequence.sampled.reduce((a, b) => a + b, 0) })),
    warmup_steps: o.warmupSteps,
    steps: o.steps,
    sharing_on: on,
    sharing_off: off,
    sharing_off_per_turn: perTurn,
    ratios: {
      on_tokens_processed_per_unique: ratio(on.step.tokens_processed, on.step.unique_tokens),
      off_tokens_processed_per_unique: ratio(off.step.tokens_processed, off.step.unique_tokens),
      off_per_turn_tokens_processed_per_unique: ratio(perTurn.step.tokens_processed, perTurn.step.unique_tokens),
      // OFF: the trainer with sharing turned off (--no-share-prefix): no prompt K/V reuse, one
      // training row per rollout (its turns still one token-level sequence).
      ...speedups(off),
      // The baseline before issue #17: every turn re-prefilled whole AND trained as its own sequence.
      vs_per_turn_baseline: speedups(perTurn),
    },
  };
}
