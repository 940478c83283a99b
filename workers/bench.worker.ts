/// <reference lib="webworker" />
// The bench page's worker: it alone touches WebGPU for bench.html, and runs the same measuring core
// as `npm run bench` (src/engine/bench/run-bench.ts). One run at a time; each run gets a fresh
// device that is destroyed afterwards, so a failed run leaves nothing behind for the next.
import { describeAdapter, requestDeviceForModels } from '../src/engine/gpu/capabilities';
import { runBench } from '../src/engine/bench/run-bench';
import type { BenchWorkerMessage, BenchWorkerRequest } from '../src/bench-page/messages';

declare const self: DedicatedWorkerGlobalScope;

function post(message: BenchWorkerMessage) {
  self.postMessage(message);
}

async function requestAdapter(): Promise<{ adapter: GPUAdapter; description: string; isSoftware: boolean }> {
  if (!navigator.gpu) throw new Error('This browser does not expose WebGPU to workers (navigator.gpu is missing).');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU is present but no GPU adapter is available.');
  const a = describeAdapter(adapter);
  const description = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { adapter, description, isSoftware: /swiftshader|llvmpipe|lavapipe|software/i.test(description) };
}

self.onmessage = async (e: MessageEvent<BenchWorkerRequest>) => {
  let device: GPUDevice | undefined;
  try {
    const { adapter, description, isSoftware } = await requestAdapter();
    if (e.data.type === 'probe') {
      post({ type: 'adapter', description, isSoftware });
      return;
    }
    device = await requestDeviceForModels(adapter);
    const report = await runBench(device, {
      ...e.data.settings,
      adapter: { description, isSoftware },
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    post({ type: 'result', report });
  } catch (err) {
    // A lost device fails the pending readback with a bare AbortError: name the loss instead.
    const lost = device && (await Promise.race([device.lost, new Promise<undefined>((resolve) => setTimeout(resolve, 250))]));
    const message = lost ? `the GPU device was lost (${lost.reason}${lost.message ? `: ${lost.message}` : ''})` : (err as Error)?.message || String(err);
    post({ type: 'error', during: e.data.type, message });
  } finally {
    device?.destroy();
  }
};
