// The Train tab's view of the GRPO trainer. The trainer runs in the engine worker (it owns the
// GPU); this interface is what the UI needs from it. Proposed worker messages, for whoever adds
// the trainer to src/worker-api/protocol.ts:
//   request  { type: 'train-start', config: TrainingConfig }  → events { kind: 'train-metrics', metrics }
//                                                               and { kind: 'train-sample', sample },
//                                                               result { stoppedAtStep, checkpointIds }
//   request  { type: 'train-control', action: 'pause' | 'resume' | 'stop' }
//   request  { type: 'train-status' } → { available: true }  (the UI probes this to enable Start)
// A worker that does not answer 'train-status' (an older build) leaves the tab disabled: it never
// shows made-up numbers.
import { CELLS, type Cell } from '../sandbox/index';
import type { EngineClient } from './engine-client';

export interface TrainingConfig {
  /** Relative weight of each cell in the scenario mix (0 leaves the cell out). */
  cellMix: Record<Cell, number>;
  /** GRPO group size G: rollouts per scenario. */
  groupSize: number;
  learningRate: number;
  steps: number;
  loraRank: number;
  klBeta: number;
  seed: number;
  checkpointEvery: number;
  maxNewTokens: number;
  /** Continue the run stored in this checkpoint (its adapter, optimizer, step and history); `steps` is the total to reach. */
  resumeFrom?: string;
}

/** Rates over the step's rollouts for one cell (each in [0, 1]). */
export interface CellRates { refusal: number; verification: number; attackSuccess: number; completion: number }

export interface TrainingMetrics {
  step: number;
  totalSteps: number;
  elapsedSeconds: number;
  meanReward: number;
  kl: number;
  gradNorm: number;
  perCell: Partial<Record<Cell, CellRates>>;
}

export interface TrainingSample { step: number; scenarioId: string; cell: Cell; reward: number; advantage: number; text: string }

export interface TrainingControls {
  pause(): void;
  resume(): void;
  stop(): void;
  /** Resolves when training ends (finished, stopped, or failed: then it rejects with the reason). */
  done: Promise<{ stoppedAtStep: number; checkpointIds: string[] }>;
}

export type TrainerAvailability = { available: true } | { available: false; reason: string };

export interface TrainingClient {
  availability(): Promise<TrainerAvailability>;
  start(config: TrainingConfig, onMetrics: (m: TrainingMetrics) => void, onSample: (s: TrainingSample) => void): TrainingControls;
}

export const TRAINER_MISSING = 'Training needs the GRPO trainer (in progress).';

export function defaultTrainingConfig(): TrainingConfig {
  return {
    cellMix: Object.fromEntries(CELLS.map((c) => [c, 1])) as Record<Cell, number>,
    groupSize: 4, learningRate: 1e-4, steps: 200, loraRank: 8, klBeta: 0.04, seed: 0, checkpointEvery: 50, maxNewTokens: 256,
  };
}

/** Every problem with a config, each naming the field. Empty when it is valid. */
export function validateTrainingConfig(c: TrainingConfig): string[] {
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
  return errors;
}

/** The worker-backed client: available only once the worker understands 'train-status'. */
export class WorkerTrainingClient implements TrainingClient {
  constructor(private readonly engine: EngineClient) {}

  async availability(): Promise<TrainerAvailability> {
    if (!(await this.engine.supports('train-status'))) return { available: false, reason: TRAINER_MISSING };
    return this.engine.trainStatus();
  }

  start(config: TrainingConfig, onMetrics: (m: TrainingMetrics) => void, onSample: (s: TrainingSample) => void): TrainingControls {
    const running = this.engine.trainStart(config, (event) => {
      if (event.kind === 'train-metrics') onMetrics(event.metrics);
      else if (event.kind === 'train-sample') onSample(event.sample);
    });
    const control = (action: 'pause' | 'resume' | 'stop') => void this.engine.trainControl(action).catch(() => undefined);
    return { pause: () => control('pause'), resume: () => control('resume'), stop: () => control('stop'), done: running.result };
  }
}
