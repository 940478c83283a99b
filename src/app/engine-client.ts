// Main-thread proxy for the engine worker. No GPU code here: it only posts messages.
import type { CapabilitiesResult, WorkerRequest, WorkerResponse } from '../worker-api/protocol';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (event: unknown) => void };

export class EngineClient {
  private worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private listeners = new Set<(event: unknown) => void>();

  constructor() {
    this.worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<WorkerResponse>) => this.receive(e.data);
  }

  /** Worker-wide events not tied to a request (device lost, ...). */
  onEvent(listener: (event: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  capabilities(): Promise<CapabilitiesResult> {
    return this.request({ type: 'capabilities' }) as Promise<CapabilitiesResult>;
  }

  private request(body: Omit<WorkerRequest, 'id'>, onEvent?: (event: unknown) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ ...body, id } as WorkerRequest);
    });
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
    else pending.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
  }
}
