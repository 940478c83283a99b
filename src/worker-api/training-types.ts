// The GRPO training run as the UI and the engine worker both see it: its configuration (with
// defaults and validation), the per-step metrics and sample trajectories the worker streams.
// Plain structured-clone data, shared by src/app and src/worker-api (which must not import the app).
import { CELLS, type Cell } from '../sandbox/index';
import type { StepProgress } from '../training/grpo/trainer';

/** Where the running step is (rollout turn and tokens, micro-batch k of n, optimizer), for the Train tab. */
export type TrainingProgress = StepProgress & { step: number; totalSteps: number };

export interface TrainingConfig {
  /** Relative weight of each cell in the scenario mix (0 leaves the cell out). */
  cellMix: Record<Cell, number>;
  /** GRPO group size G: rollouts per scenario. */
  groupSize: number;
  learningRate: number;
  /** The step count to reach: when resuming, a total that includes the checkpoint's steps. */
  steps: number;
  /** Ignored when resuming: the checkpoint's adapter decides the rank. */
  loraRank: number;
  klBeta: number;
  seed: number;
  checkpointEvery: number;
  maxNewTokens: number;
  /** Continue the run stored in this checkpoint (its adapter, optimizer, step and history); `steps` is the total to reach. */
  resumeFrom?: string;
}

/** Rates over the step's rollouts for one cell (each in [0, 1]). */
export interface CellRates {
  refusal: number;
  verification: number;
  attackSuccess: number;
  completion: number;
}

export interface TrainingMetrics {
  /** Steps done after this one (1 for the first step of a run). */
  step: number;
  totalSteps: number;
  /** Seconds of training behind this step, the resumed run's earlier steps included (for the ETA). */
  elapsedSeconds: number;
  meanReward: number;
  kl: number;
  gradNorm: number;
  perCell: Partial<Record<Cell, CellRates>>;
  /** Spread of the step's rewards (absent in metrics from older checkpoints). */
  rewardStd?: number;
  /**
   * True when every rollout got the same reward as the others in its group: all advantages are 0,
   * so the step could not change the adapter (no learning signal).
   */
  noSignal?: boolean;
}

export interface TrainingSample {
  step: number;
  scenarioId: string;
  cell: Cell;
  reward: number;
  advantage: number;
  text: string;
}

export function defaultTrainingConfig(): TrainingConfig {
  return {
    cellMix: Object.fromEntries(CELLS.map((c) => [c, 1])) as Record<Cell, number>,
    groupSize: 4,
    learningRate: 1e-4,
    steps: 200,
    loraRank: 8,
    klBeta: 0.04,
    seed: 0,
    checkpointEvery: 50,
    maxNewTokens: 256,
  };
}

/**
 * Every problem with a config, each naming the field. Empty when it is valid. `resumeStep`, when
 * known, is the step of the checkpoint in `resumeFrom`: the run must go past it.
 */
export function validateTrainingConfig(c: TrainingConfig, resumeStep?: number): string[] {
  const errors: string[] = [];
  const int = (name: keyof TrainingConfig, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) errors.push(`${name} must be an integer from ${min} to ${max}, got ${v}`);
  };
  int('groupSize', c.groupSize, 2, 64);
  int('steps', c.steps, 1, 100_000);
  int('loraRank', c.loraRank, 1, 256);
  int('seed', c.seed, 0, 2 ** 31 - 1);
  int('checkpointEvery', c.checkpointEvery, 1, 100_000);
  int('maxNewTokens', c.maxNewTokens, 1, 4096);
  if (!(c.learningRate > 0 && c.learningRate < 1)) errors.push(`learningRate must be in (0, 1), got ${c.learningRate}`);
  if (!(c.klBeta >= 0 && c.klBeta <= 10)) errors.push(`klBeta must be in [0, 10], got ${c.klBeta}`);
  for (const cell of CELLS) {
    const w = c.cellMix[cell];
    if (!(Number.isFinite(w) && w >= 0)) errors.push(`cellMix.${cell} must be a non-negative number, got ${w}`);
  }
  if (CELLS.every((cell) => !(c.cellMix[cell] > 0))) errors.push('cellMix: at least one cell needs a positive weight');
  if (c.resumeFrom !== undefined && (typeof c.resumeFrom !== 'string' || c.resumeFrom.trim() === '')) errors.push('resumeFrom must be a checkpoint id');
  if (c.resumeFrom !== undefined && resumeStep !== undefined && !(c.steps > resumeStep)) {
    errors.push(`steps is the total to reach and must be larger than the checkpoint's step ${resumeStep}, got ${c.steps}`);
  }
  return errors;
}

/**
 * The UI's metrics of one trainer step, from the trainer's record (`step` there counts from 0;
 * per-cell rates are `<cell>.refusal_rate` and so on, present for the cells the step sampled).
 */
export function trainingMetricsOf(record: Record<string, number>, totalSteps: number, elapsedSeconds: number, noSignal?: boolean): TrainingMetrics {
  const perCell: Partial<Record<Cell, CellRates>> = {};
  for (const cell of CELLS) {
    if (record[`${cell}.reward`] === undefined) continue;
    perCell[cell] = {
      refusal: record[`${cell}.refusal_rate`],
      verification: record[`${cell}.verification_rate`],
      attackSuccess: record[`${cell}.attack_success_rate`],
      completion: record[`${cell}.completion_rate`],
    };
  }
  return {
    step: record.step + 1,
    totalSteps,
    elapsedSeconds,
    meanReward: record.reward_mean,
    kl: record.kl,
    gradNorm: record.grad_norm,
    perCell,
    ...(record.reward_std !== undefined ? { rewardStd: record.reward_std } : {}),
    ...(noSignal !== undefined ? { noSignal } : {}),
  };
}

/** Whether rewards are equal within every group (GRPO advantages all 0: nothing to learn from). */
export function noLearningSignal(rollouts: readonly { group: number; reward: number }[]): boolean {
  const byGroup = new Map<number, number[]>();
  for (const r of rollouts) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r.reward]);
  return rollouts.length > 0 && [...byGroup.values()].every((rs) => Math.max(...rs) - Math.min(...rs) < 1e-9);
}
