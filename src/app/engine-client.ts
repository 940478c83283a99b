// Main-thread proxy for the engine worker. No GPU code here: it only posts messages
// (src/worker-api/protocol.ts) and routes the answers.
import type { CheckpointSummary } from '../checkpoints/types';
import type {
  AdapterListResult,
  CapabilitiesResult,
  GenerateRequest,
  GenerateResult,
  LoadRequest,
  LoadResult,
  MemoryResult,
  WorkerEvent,
  WorkerRequest,
  WorkerResponse,
} from '../worker-api/protocol';
import type { TrainingConfig } from '../worker-api/training-types';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (event: WorkerEvent) => void };

export class WorkerRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

/** A running request: its result, and a way to cancel it. */
export interface Running<T> {
  id: number;
  result: Promise<T>;
  cancel(): void;
}

type Body = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners = new Set<(event: WorkerEvent) => void>();

  constructor(worker?: Worker) {
    this.worker = worker ?? new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<WorkerResponse>) => this.receive(e.data);
  }

  /** Worker-wide events not tied to a request (device lost, ...). */
  onEvent(listener: (event: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  capabilities(): Promise<CapabilitiesResult> {
    return this.start<CapabilitiesResult>({ type: 'capabilities' }).result;
  }

  load(request: Omit<LoadRequest, 'type'>, onEvent?: (e: WorkerEvent) => void): Running<LoadResult> {
    return this.start<LoadResult>({ type: 'load', ...request }, onEvent);
  }

  generate(request: Omit<GenerateRequest, 'type'>, onEvent?: (e: WorkerEvent) => void): Running<GenerateResult> {
    return this.start<GenerateResult>({ type: 'generate', ...request }, onEvent);
  }

  /** Stored checkpoints, with whether each fits the loaded model (the worker knows its shapes and identity). */
  listAdapters(): Promise<AdapterListResult> {
    return this.start<AdapterListResult>({ type: 'adapters', op: 'list' }).result;
  }

  /** Imports PEFT files as a new checkpoint (parsed and checked in the worker, off the UI thread). */
  importAdapter(files: File[], name?: string): Promise<CheckpointSummary> {
    return this.start<CheckpointSummary>({ type: 'adapters', op: 'import', files, ...(name ? { name } : {}) }).result;
  }

  trainStart(config: TrainingConfig, onEvent: (e: WorkerEvent) => void): Running<{ stoppedAtStep: number; checkpointIds: string[] }> {
    return this.start({ type: 'train-start', config }, onEvent);
  }

  trainStatus(): Promise<{ available: true } | { available: false; reason: string }> {
    return this.start<{ available: true } | { available: false; reason: string }>({ type: 'train-status' }).result;
  }

  trainControl(action: 'pause' | 'resume' | 'stop'): Promise<unknown> {
    return this.start({ type: 'train-control', action }).result;
  }

  unload(): Promise<unknown> {
    return this.start({ type: 'unload' }).result;
  }

  memory(): Promise<MemoryResult> {
    return this.start<MemoryResult>({ type: 'memory' }).result;
  }

  terminate() {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new WorkerRequestError('terminated', 'the engine worker was stopped'));
    this.pending.clear();
  }

  private start<T>(body: Body, onEvent?: (event: WorkerEvent) => void): Running<T> {
    const id = this.nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      this.worker.postMessage({ ...body, id } as WorkerRequest);
    });
    return { id, result, cancel: () => this.worker.postMessage({ type: 'cancel', target: id, id: this.nextId++ } satisfies WorkerRequest) };
  }

  private receive(message: WorkerResponse) {
    const pending = this.pending.get(message.id);
    if (message.type === 'event') {
      if (pending?.onEvent) pending.onEvent(message.event);
      else for (const l of this.listeners) l(message.event);
      return;
    }
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.value);
    else pending.reject(new WorkerRequestError(message.error.code, message.error.message));
  }
}
