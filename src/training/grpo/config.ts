// GRPO trainer settings in one place, with the defaults the playground starts from.
import type { LoraTarget } from '../../engine/ops/lora-targets';
import { LORA_TARGETS } from '../../engine/ops/lora-targets';

export interface GrpoConfig {
  lr: number;
  /** G: rollouts per prompt. */
  groupSize: number;
  /** Prompts (groups) per step. */
  promptsPerStep: number;
  maxNewTokens: number;
  temperature: number;
  topP: number;
  /** PPO-style ratio clip ε. */
  clipEps: number;
  /** β of the k3 KL to the base policy (0 = off: no reference forward). */
  klBeta: number;
  /** Policy epochs per batch of rollouts (each reuses the stored old log-probs). */
  epochs: number;
  seed: number;
  lora: { rank: number; alpha: number; targets: LoraTarget[] };
  weightDecay: number;
  maxGradNorm: number;
  /** Sequences per forward/backward micro-batch, and their padded length. */
  microBatch: number;
  maxSequenceTokens: number;
  /** Re-run each layer's forward in backward (less activation memory, one more forward). */
  recompute: boolean;
  /**
   * Train each group's sequences packed over their shared prompt (the prompt's forward and
   * backward run once per group, not G times; same loss and gradients). A micro-batch is then one
   * packed row of up to `packedRowTokens` tokens (a group that does not fit continues in another
   * row, with the prompt again). Off: one sequence per row, microBatch rows per micro-batch.
   */
  sharePrefix: boolean;
  /**
   * Tokens in a packed row (at least maxSequenceTokens). Activation memory grows with it: at
   * Qwen2.5-0.5B's shape about 250 KB per token, so 4096 keeps a G = 8 step of 1024-token
   * prompts within 2 GB (tests/gpu/training/grpo-bench.test.ts).
   */
  packedRowTokens: number;
}

export const DEFAULT_GRPO_CONFIG: GrpoConfig = {
  lr: 2e-4,
  groupSize: 8,
  promptsPerStep: 2,
  maxNewTokens: 256,
  temperature: 1.0,
  topP: 1.0,
  clipEps: 0.2,
  klBeta: 0.04,
  epochs: 1,
  seed: 0,
  lora: { rank: 16, alpha: 32, targets: [...LORA_TARGETS] },
  weightDecay: 0,
  maxGradNorm: 1.0,
  microBatch: 4,
  maxSequenceTokens: 1024,
  recompute: true,
  sharePrefix: true,
  packedRowTokens: 4096,
};

export function resolveGrpoConfig(partial: Partial<GrpoConfig> = {}): GrpoConfig {
  const c: GrpoConfig = { ...DEFAULT_GRPO_CONFIG, ...partial, lora: { ...DEFAULT_GRPO_CONFIG.lora, ...partial.lora } };
  const positiveInt = ['groupSize', 'promptsPerStep', 'maxNewTokens', 'epochs', 'microBatch', 'maxSequenceTokens', 'packedRowTokens'] as const;
  for (const k of positiveInt) if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`GRPO config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.groupSize < 2) throw new Error('GRPO config: groupSize must be at least 2 (advantages compare rollouts within a group)');
  for (const k of ['lr', 'temperature'] as const) if (!(c[k] > 0)) throw new Error(`GRPO config: ${k} must be > 0, got ${c[k]}`);
  if (!(c.topP > 0 && c.topP <= 1)) throw new Error(`GRPO config: topP must be in (0, 1], got ${c.topP}`);
  if (!(c.clipEps > 0 && c.clipEps < 1)) throw new Error(`GRPO config: clipEps must be in (0, 1), got ${c.clipEps}`);
  if (!(c.klBeta >= 0)) throw new Error(`GRPO config: klBeta must be ≥ 0, got ${c.klBeta}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new Error(`GRPO config: seed must be a non-negative integer, got ${c.seed}`);
  return c;
}
