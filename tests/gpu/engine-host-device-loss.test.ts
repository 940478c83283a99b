// Device loss and out-of-memory in the engine worker's logic (EngineHost) under Node + Dawn, on
// real devices: a destroyed device (device.lost, reason 'destroyed') makes the next generate, and a
// generate in flight, fail with one clear 'device-lost' error instead of hanging or reading as
// "cancelled"; a load on a fresh device then works. A load whose buffers exceed the device's
// limits fails as 'out-of-memory' naming the limit, and the host loads the tiny model afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { EngineHost, describeError } from '../../src/worker-api/engine-host';
import type { WorkerEvent } from '../../src/worker-api/protocol';
import { requestNodeDevice } from '../../src/node/gpu';
import { getTestDevice } from '../helpers/gpu';

const TINY = { model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q8', maxContext: 64, maxBatch: 1 } as const;
const quiet = () => {};
/** The host words it either way: noticed before the call (naming the model dropped) or during it. */
const LOST = /^the GPU device was lost \(destroyed: device was destroyed\)(, and built-in tiny qwen2 \(random weights\) with it)?\. Load the model again\.$/;

/** Rejects when `promise` takes longer than `ms`: a hang fails the test instead of timing it out. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))]);
}

describe('EngineHost when its device is lost', () => {
  // Every load gets a device of its own (an adapter hands out only one), like the worker after a loss.
  const devices: GPUDevice[] = [];
  const gpuErrors: string[] = [];
  const host = new EngineHost({
    getDevice: async () => {
      const { device } = await requestNodeDevice();
      device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
      devices.push(device);
      return device;
    },
  });
  afterAll(() => {
    host.unload();
    for (const device of devices) device.destroy();
  });

  it('the next generate is a clear device-lost error, memory too, and nothing else is reported', async () => {
    await host.load(TINY, quiet);
    const before = await host.generate({ promptIds: [[5, 6, 7]], maxNewTokens: 2, sampling: { greedy: true } }, quiet);
    expect(before.sequences[0].ids).toHaveLength(2);
    devices[0].destroy();
    const err = await within(
      host.generate({ promptIds: [[5, 6, 7]], maxNewTokens: 2, sampling: { greedy: true } }, quiet).catch((e) => e),
      10_000,
      'generate on a lost device',
    );
    expect(describeError(err)).toEqual({ code: 'device-lost', message: expect.stringMatching(LOST) });
    expect(describeError(captureSync(() => host.memory())).code).toBe('device-lost');
    expect(host.model).toBeUndefined();
    expect(gpuErrors).toEqual([]);
  });

  it('a load on a fresh device then works and generates', async () => {
    const loaded = await host.load(TINY, quiet);
    expect(devices).toHaveLength(2);
    expect(loaded.memory.weights).toBeGreaterThan(0);
    const out = await host.generate({ promptIds: [[5, 6, 7]], maxNewTokens: 3, sampling: { greedy: true } }, quiet);
    expect(out.sequences[0].ids).toHaveLength(3);
  });

  it('a generate in flight when the device is lost rejects as device-lost instead of hanging', async () => {
    let tokens = 0;
    const running = host.generate({ promptIds: [[9, 10]], maxNewTokens: 40, sampling: { greedy: true } }, (e: WorkerEvent) => {
      if (e.kind !== 'token') return;
      if (++tokens === 1) devices[1].destroy(); // mid-generation: the next step's readback never comes
    });
    const err = await within(
      running.catch((e) => e),
      30_000,
      'generate in flight',
    );
    expect(describeError(err)).toEqual({ code: 'device-lost', message: expect.stringMatching(LOST) });
    expect(tokens).toBeLessThan(40);
    const again = await host.load(TINY, quiet);
    expect(again.label).toMatch(/random weights/);
    expect((await host.generate({ promptIds: [[9, 10]], maxNewTokens: 2, sampling: { greedy: true } }, quiet)).sequences[0].ids).toHaveLength(2);
    expect(gpuErrors).toEqual([]);
  });
});

describe('EngineHost when a load asks for more than the device can hold', () => {
  const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device });
  afterAll(() => host.unload());

  it('fails as out-of-memory naming the limit, then loads and runs the tiny model', async () => {
    const { device } = await getTestDevice();
    const { vocabSize } = await host.load(TINY, quiet);
    host.unload();
    // One logits row per sequence of the batch: a batch whose logits pass maxBufferSize.
    const maxBatch = Math.floor(device.limits.maxBufferSize / (vocabSize * 4)) + 1;
    const err = await host.load({ ...TINY, maxContext: 2, maxBatch }, quiet).catch((e) => e);
    const { code, message } = describeError(err);
    expect(code).toBe('out-of-memory');
    expect(message).toContain(`batch ${maxBatch}`);
    expect(message).toContain(String(device.limits.maxBufferSize)); // the limit, named by WebGPU's message
    expect(message).toMatch(/max buffer size/i);
    expect(message).toMatch(/Try a shorter context or a smaller batch\.$/);
    expect(host.model).toBeUndefined();
    await host.load(TINY, quiet);
    const out = await host.generate({ promptIds: [[1, 2, 3]], maxNewTokens: 2, sampling: { greedy: true } }, quiet);
    expect(out.sequences[0].ids).toHaveLength(2);
  });
});

function captureSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
