// The typed message API between the UI (main thread) and the engine worker, which is the single
// owner of the GPUDevice. Every request carries an id; the worker answers with the same id.
// Streaming requests (generate, train) send any number of `event` messages before `result`.
import type { GpuCapabilities } from '../engine/gpu/capabilities';

export type WorkerRequest =
  | { id: number; type: 'capabilities' };

export type WorkerResponse =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'event'; event: unknown }
  | { id: number; type: 'error'; error: { code: string; message: string } };

export interface CapabilitiesResult {
  webgpu: boolean;
  /** Why WebGPU is unavailable, when it is. */
  reason?: string;
  capabilities?: GpuCapabilities;
}
