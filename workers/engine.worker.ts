/// <reference lib="webworker" />
// The engine worker: the only place in the app that touches WebGPU. It turns messages
// (src/worker-api/protocol.ts) into EngineHost calls and streams events back. One request runs at
// a time per kind of work; `cancel` aborts a running load or generate by its request id.
import { probeCapabilities, requestDeviceForModels } from '../src/engine/gpu/capabilities';
import { CacheStorageByteCache } from '../src/hf-io/cache';
import { WEIGHT_CACHE_NAME } from '../src/engine/quant/weight-cache';
import { describeError, EngineHost } from '../src/worker-api/engine-host';
import { CheckpointStore } from '../src/checkpoints/store';
import type { CapabilitiesResult, WorkerEvent, WorkerRequest, WorkerResponse } from '../src/worker-api/protocol';

declare const self: DedicatedWorkerGlobalScope;

let gpu: { adapter: GPUAdapter; device: GPUDevice } | undefined;
const running = new Map<number, AbortController>();

function post(message: WorkerResponse) {
  self.postMessage(message);
}

async function ensureDevice(): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  if (gpu) return gpu;
  if (!('gpu' in navigator) || !navigator.gpu)
    throw Object.assign(new Error('This browser does not expose WebGPU to workers (navigator.gpu is missing).'), { code: 'no-webgpu' });
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw Object.assign(new Error('WebGPU is present but no GPU adapter is available.'), { code: 'no-adapter' });
  const device = await requestDeviceForModels(adapter);
  device.lost.then((info) => {
    // Every GPU object is gone. Forget the device and the model so the next request starts
    // clean: the worker stays usable.
    gpu = undefined;
    host.forgetAfterDeviceLoss(info);
    for (const controller of running.values()) controller.abort();
    post({ id: 0, type: 'event', event: { kind: 'device-lost', reason: info.reason, message: info.message || 'the GPU device was lost' } });
  });
  gpu = { adapter, device };
  return gpu;
}

const host = new EngineHost({
  getDevice: async () => (await ensureDevice()).device,
  cache: typeof caches !== 'undefined' ? new CacheStorageByteCache() : undefined,
  weightCache: typeof caches !== 'undefined' ? new CacheStorageByteCache(WEIGHT_CACHE_NAME) : undefined,
  checkpointStore: typeof indexedDB !== 'undefined' ? new CheckpointStore() : undefined,
});

async function handle(request: WorkerRequest, emit: (e: WorkerEvent) => void, signal: AbortSignal): Promise<unknown> {
  switch (request.type) {
    case 'capabilities':
      try {
        const { adapter, device } = await ensureDevice();
        return { webgpu: true, capabilities: await probeCapabilities(adapter, device) } satisfies CapabilitiesResult;
      } catch (err) {
        return { webgpu: false, reason: (err as Error).message } satisfies CapabilitiesResult;
      }
    case 'load':
      return host.load(request, emit, signal);
    case 'generate':
      return host.generate(request, emit, signal);
    case 'adapters':
      return host.adapterRequest(request);
    case 'cancel':
      running.get(request.target)?.abort();
      return { cancelled: running.has(request.target) };
    case 'unload':
      host.unload();
      return { unloaded: true };
    case 'memory':
      return host.memory();
    case 'train-status':
      return host.model ? { available: true } : { available: false, reason: 'Load a model first (the Model tab): training runs on the loaded model.' };
    case 'train-start':
      return host.train(request.config, emit, signal);
    case 'train-control':
      return host.trainControl(request.action);
    default:
      throw Object.assign(new Error(`Unknown request type: ${(request as { type: string }).type}`), { code: 'bad-request' });
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const request = e.data;
  const controller = new AbortController();
  running.set(request.id, controller);
  try {
    const value = await handle(request, (event) => post({ id: request.id, type: 'event', event }), controller.signal);
    post({ id: request.id, type: 'result', value });
  } catch (err) {
    const known = (err as { code?: string }).code;
    const info = describeError(err);
    post({ id: request.id, type: 'error', error: { code: info.code === 'internal' && known ? known : info.code, message: info.message } });
  } finally {
    running.delete(request.id);
  }
};
