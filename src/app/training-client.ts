// The Train tab's view of the GRPO trainer, which runs in the engine worker (it owns the GPU):
// requests 'train-status' (the UI probes it to enable Start), 'train-start' (events train-metrics,
// train-sample, train-checkpoint; result { stoppedAtStep, checkpointIds }), 'train-control', and
// 'adapters' op 'list' for the checkpoints a run can resume from (those that fit the loaded model).
// The worker is built with the app, so it always answers 'train-status' (unavailable until a model
// is loaded).
import type { AdapterListResult } from '../worker-api/protocol';
import type { TrainingConfig, TrainingMetrics, TrainingProgress, TrainingSample } from '../worker-api/training-types';
import type { EngineClient } from './engine-client';

// The types live with the worker API (the worker must not import the app); re-exported for the panels.
export {
  defaultTrainingConfig,
  validateTrainingConfig,
  type CellRates,
  type TrainingConfig,
  type TrainingMetrics,
  type TrainingProgress,
  type TrainingSample,
} from '../worker-api/training-types';

export interface TrainingControls {
  pause(): void;
  resume(): void;
  stop(): void;
  /** Resolves when training ends (finished, stopped, or failed: then it rejects with the reason). */
  done: Promise<{ stoppedAtStep: number; checkpointIds: string[] }>;
}

export type TrainerAvailability = { available: true } | { available: false; reason: string };

/** What a run streams to the UI. */
export interface TrainingHandlers {
  onMetrics(m: TrainingMetrics): void;
  onSample(s: TrainingSample): void;
  /** A checkpoint was stored. */
  onCheckpoint?(c: { id: string; step: number }): void;
  /** A resumed run's earlier steps, once, before its first new step. */
  onHistory?(metrics: TrainingMetrics[]): void;
  /** Where the running step is (throttled). */
  onProgress?(p: TrainingProgress): void;
}

export interface TrainingClient {
  availability(): Promise<TrainerAvailability>;
  start(config: TrainingConfig, handlers: TrainingHandlers): TrainingControls;
  /** Stored checkpoints and whether each fits the loaded model (the candidates to resume from). */
  listCheckpoints(): Promise<AdapterListResult>;
}

/** The worker-backed client. */
export class WorkerTrainingClient implements TrainingClient {
  constructor(private readonly engine: EngineClient) {}

  availability(): Promise<TrainerAvailability> {
    return this.engine.trainStatus();
  }

  start(config: TrainingConfig, handlers: TrainingHandlers): TrainingControls {
    const running = this.engine.trainStart(config, (event) => {
      if (event.kind === 'train-metrics') handlers.onMetrics(event.metrics);
      else if (event.kind === 'train-sample') handlers.onSample(event.sample);
      else if (event.kind === 'train-checkpoint') handlers.onCheckpoint?.({ id: event.id, step: event.step });
      else if (event.kind === 'train-history') handlers.onHistory?.(event.metrics);
      else if (event.kind === 'train-progress') handlers.onProgress?.(event.progress);
    });
    const control = (action: 'pause' | 'resume' | 'stop') => void this.engine.trainControl(action).catch(() => undefined);
    return { pause: () => control('pause'), resume: () => control('resume'), stop: () => control('stop'), done: running.result };
  }

  listCheckpoints(): Promise<AdapterListResult> {
    return this.engine.listAdapters();
  }
}
