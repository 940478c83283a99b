// Messages between the bench page and its worker (workers/bench.worker.ts), which owns the page's
// GPUDevice. Structured-clone data only.
import type { BenchSettings } from '../engine/bench/bench-options';
import type { BenchProgress, BenchReport } from '../engine/bench/run-bench';

export type BenchWorkerRequest =
  /** Asks which adapter the worker gets (answers `adapter`): the form's defaults depend on it. */
  { type: 'probe' } | { type: 'run'; settings: BenchSettings };

export type BenchWorkerMessage =
  | { type: 'adapter'; description: string; isSoftware: boolean }
  | { type: 'progress'; progress: BenchProgress }
  | { type: 'result'; report: BenchReport }
  /** `during` says which request failed: a failed probe means no GPU, a failed run ends that run. */
  | { type: 'error'; during: 'probe' | 'run'; message: string };
