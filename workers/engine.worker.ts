/// <reference lib="webworker" />
// The engine worker: the only place in the app that touches WebGPU. The UI talks to it through
// the messages in src/worker-api/protocol.ts.
import { probeCapabilities, requestDeviceForModels } from '../src/engine/gpu/capabilities';
import type { CapabilitiesResult, WorkerRequest, WorkerResponse } from '../src/worker-api/protocol';

declare const self: DedicatedWorkerGlobalScope;

let gpu: { adapter: GPUAdapter; device: GPUDevice } | undefined;

async function ensureDevice(): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  if (gpu) return gpu;
  if (!('gpu' in navigator) || !navigator.gpu) throw Object.assign(new Error('This browser does not expose WebGPU to workers (navigator.gpu is missing).'), { code: 'no-webgpu' });
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw Object.assign(new Error('WebGPU is present but no GPU adapter is available.'), { code: 'no-adapter' });
  const device = await requestDeviceForModels(adapter);
  device.lost.then((info) => {
    // Forget the device so the next request makes a new one: the worker stays usable.
    gpu = undefined;
    post({ id: 0, type: 'event', event: { kind: 'device-lost', reason: info.reason, message: info.message } });
  });
  gpu = { adapter, device };
  return gpu;
}

function post(message: WorkerResponse) {
  self.postMessage(message);
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'capabilities': {
      try {
        const { adapter, device } = await ensureDevice();
        return { webgpu: true, capabilities: await probeCapabilities(adapter, device) } satisfies CapabilitiesResult;
      } catch (err) {
        return { webgpu: false, reason: (err as Error).message } satisfies CapabilitiesResult;
      }
    }
    default:
      throw Object.assign(new Error(`Unknown request type: ${(request as { type: string }).type}`), { code: 'bad-request' });
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const request = e.data;
  try {
    post({ id: request.id, type: 'result', value: await handle(request) });
  } catch (err) {
    const error = err as Error & { code?: string };
    post({ id: request.id, type: 'error', error: { code: error.code ?? 'internal', message: error.message } });
  }
};
