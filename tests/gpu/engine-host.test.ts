// The engine worker's logic (EngineHost) under Node + Dawn: load with progress, streaming
// generation, memory report, clear errors that leave it usable, unload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineHost, describeError } from '../../src/worker-api/engine-host';
import type { WorkerEvent } from '../../src/worker-api/protocol';
import { getTestDevice } from '../helpers/gpu';
import { fixtureDir } from '../helpers/fixture-models';

describe('EngineHost with the built-in tiny model', () => {
  const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device });
  const events: WorkerEvent[] = [];
  beforeAll(async () => {
    await host.load({ model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q4', maxContext: 96, maxBatch: 2 }, (e) => events.push(e));
  });
  afterAll(() => host.unload());

  it('reports download and upload progress, and what it loaded', () => {
    const downloads = events.filter((e) => e.kind === 'download');
    const uploads = events.filter((e) => e.kind === 'upload');
    expect(downloads.length).toBeGreaterThan(0);
    expect(uploads.length).toBeGreaterThan(0);
    const last = uploads[uploads.length - 1] as Extract<WorkerEvent, { kind: 'upload' }>;
    expect(last.done).toBe(last.total);
    const r = host.model!.result;
    expect(r.family).toBe('qwen2.5');
    expect(r.format).toBe('q4');
    expect(r.label).toMatch(/random weights/);
    expect(r.memory.weights).toBeGreaterThan(0);
    expect(r.memory.kvCache).toBeGreaterThan(0);
    expect(r.memory.total).toBe(r.memory.weights + r.memory.kvCache + r.memory.activations + r.memory.other);
  });

  it('generates from a chat conversation for two sequences, streaming text deltas that add up', async () => {
    const tokens: Extract<WorkerEvent, { kind: 'token' }>[] = [];
    const result = await host.generate(
      {
        conversations: [{ messages: [{ role: 'user', content: 'Hi!' }] }, { messages: [{ role: 'user', content: '你好，世界 🌍' }] }],
        maxNewTokens: 5,
        sampling: { temperature: 1, seed: 3 },
      },
      (e) => {
        if (e.kind === 'token') tokens.push(e);
      },
    );
    expect(result.sequences).toHaveLength(2);
    for (const [i, seq] of result.sequences.entries()) {
      expect(seq.ids.length).toBeGreaterThan(0);
      expect(seq.ids.length).toBeLessThanOrEqual(5);
      expect(seq.logprobs.every((lp) => lp <= 0 && Number.isFinite(lp))).toBe(true);
      const streamed = tokens.filter((t) => t.sequence === i);
      expect(streamed.map((t) => t.id)).toEqual(seq.ids);
      expect(seq.promptTokens).toBeGreaterThan(5);
    }
    expect(result.tokensPerSecond).toBeGreaterThan(0);
  });

  it('a prompt longer than the context is a clear error, and the host stays usable', async () => {
    const err = await host.generate({ promptIds: [new Array(95).fill(100)], maxNewTokens: 5, sampling: { greedy: true } }, () => {}).catch((e) => e);
    expect(describeError(err)).toEqual({ code: 'context-overflow', message: expect.stringMatching(/95 tokens and asks for 5 more, but the context holds 96/) });
    const ok = await host.generate({ promptIds: [[100, 200]], maxNewTokens: 2, sampling: { greedy: true } }, () => {});
    expect(ok.sequences[0].ids).toHaveLength(2);
  });

  it('reports memory, and after unload says no model is loaded', async () => {
    const other = new EngineHost({ getDevice: async () => (await getTestDevice()).device });
    await other.load({ model: { kind: 'tiny', arch: 'qwen3' }, quant: 'f32', maxContext: 32, maxBatch: 1 }, () => {});
    expect(other.memory().weights).toBeGreaterThan(host.memory().weights); // f32 vs q4
    other.unload();
    expect(describeError(captureSync(() => other.memory()))).toEqual({ code: 'no-model', message: 'no model is loaded: load one first' });
  });
});

describe('EngineHost load errors', () => {
  const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device });

  it('a local folder without tokenizer files is refused with a clear error', async () => {
    const dir = fixtureDir('qwen2-tiny-tied');
    const files = readdirSync(dir)
      .filter((f) => f.includes('.'))
      .map((f) => new File([readFileSync(join(dir, f))], f));
    const err = await host.load({ model: { kind: 'local', files }, quant: 'f32', maxContext: 16, maxBatch: 1 }, () => {}).catch((e) => e);
    expect(describeError(err)).toEqual({ code: 'model-load', message: expect.stringMatching(/tokenizer\.json and tokenizer_config\.json are required/) });
  });

  it('a folder with a mis-shaped tensor is refused naming the tensor', async () => {
    const dir = fixtureDir('qwen2-tiny-tied');
    const files = readdirSync(dir)
      .filter((f) => f.includes('.'))
      .map((f) => {
        if (f !== 'config.json') return new File([readFileSync(join(dir, f))], f);
        const config = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        return new File([JSON.stringify({ ...config, intermediate_size: config.intermediate_size + 1 })], f);
      });
    const err = await host.load({ model: { kind: 'local', files }, quant: 'f32', maxContext: 16, maxBatch: 1 }, () => {}).catch((e) => e);
    const info = describeError(err);
    expect(info.code).toBe('model-load');
    expect(info.message).toMatch(/mlp\.(gate|up|down)_proj\.weight/);
  });
});

function captureSync(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
