// EngineHost generate with a stored checkpoint's LoRA adapter on the built-in tiny model (Dawn),
// with the checkpoint store on fake-indexeddb: a non-zero adapter changes the output, B = 0
// (PEFT's initial adapter) leaves it exactly as the base, the base comes back after the call, the
// upload is reused across calls, and checkpoints for another model are refused by name.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointStore } from '../../src/checkpoints/store';
import { computeModelIdentity } from '../../src/checkpoints/model-identity';
import type { CheckpointData, ModelIdentity, TensorMap } from '../../src/checkpoints/types';
import { LORA_TARGETS } from '../../src/engine/ops/lora-targets';
import { EngineHost, describeError } from '../../src/worker-api/engine-host';
import type { AdapterListResult, GenerateResult } from '../../src/worker-api/protocol';
import { getTestDevice } from '../helpers/gpu';
import { loraPeftFiles, loraTensors, TINY_QWEN2_SHAPE } from '../helpers/lora-files';

const zeros = (map: TensorMap): TensorMap =>
  Object.fromEntries(Object.entries(map).map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.data.length) }]));

function checkpoint(name: string, baseModel: ModelIdentity, adapter: TensorMap, rank: number): CheckpointData {
  return {
    name,
    step: 3,
    baseModel,
    lora: { rank, alpha: 2 * rank, targetModules: [...LORA_TARGETS] },
    adapter,
    optimizer: { step: 3, m: zeros(adapter), v: zeros(adapter) },
    rng: { algorithm: 'test', state: [1] },
    trainerConfig: {},
    metrics: [],
  };
}

describe('EngineHost generate with a checkpoint adapter', () => {
  const store = new CheckpointStore({ indexedDB: new IDBFactory(), storage: null });
  const host = new EngineHost({ getDevice: async () => (await getTestDevice()).device, checkpointStore: store });
  const ids: Record<string, string> = {};
  const alone: Record<string, GenerateResult> = {};
  const PROMPT = [[9707, 11, 1879, 0, 358, 1079]];
  const run = (checkpointId?: string): Promise<GenerateResult> =>
    host.generate({ promptIds: PROMPT, maxNewTokens: 3, sampling: { greedy: true }, ...(checkpointId ? { adapter: { checkpointId } } : {}) }, () => {});

  beforeAll(async () => {
    await host.load({ model: { kind: 'tiny', arch: 'qwen2' }, quant: 'f32', maxContext: 64, maxBatch: 1 }, () => {});
    const identity = await host.model!.identity();
    expect(host.model!.engine.config).toMatchObject(TINY_QWEN2_SHAPE);
    ids.trained = (await store.save(checkpoint('trained', identity, loraTensors(TINY_QWEN2_SHAPE, { rank: 4, bScale: 3, seed: 11 }), 4))).id;
    ids.initial = (await store.save(checkpoint('initial', identity, loraTensors(TINY_QWEN2_SHAPE, { rank: 4, bScale: 0, seed: 12 }), 4))).id;
    // Same shapes, but fingerprinted on other weights: trained on another model.
    const other = await computeModelIdentity({
      repo: 'builtin/tiny-qwen2',
      revision: 'random-weights',
      configJson: '{}',
      weightFiles: [{ name: 'model.safetensors', bytes: new Uint8Array([1, 2, 3]) }],
    });
    ids.otherModel = (await store.save(checkpoint('other model', other, loraTensors(TINY_QWEN2_SHAPE, { rank: 4, bScale: 3 }), 4))).id;
    // Imported PEFT adapters: one of the loaded model's shape (rank 2), one for a wider model.
    const asFiles = (files: ReturnType<typeof loraPeftFiles>) => [
      new File([files['adapter_config.json'] as BlobPart], 'adapter_config.json'),
      new File([files['adapter_model.safetensors'] as BlobPart], 'adapter_model.safetensors'),
    ];
    ids.imported = (
      (await host.adapterRequest({
        type: 'adapters',
        op: 'import',
        files: asFiles(loraPeftFiles(TINY_QWEN2_SHAPE, { rank: 2, bScale: 3, seed: 3 })),
        name: 'imported fits',
      })) as { id: string }
    ).id;
    ids.wide = (
      (await host.adapterRequest({
        type: 'adapters',
        op: 'import',
        files: asFiles(loraPeftFiles({ ...TINY_QWEN2_SHAPE, hiddenSize: 48, headDim: 12 }, { rank: 2, bScale: 1 }, 'Qwen/Qwen2.5-1.5B-Instruct')),
        name: 'wide',
      })) as { id: string }
    ).id;
  });
  afterAll(() => host.unload());

  it('a non-zero adapter changes the output; B = 0 equals the base exactly; the base comes back after', async () => {
    const base = await run();
    const trained = await run(ids.trained);
    const initial = await run(ids.initial);
    const imported = await run(ids.imported);
    const baseAgain = await run();
    Object.assign(alone, { base, trained });
    const seq = (r: GenerateResult) => r.sequences[0];
    expect(seq(base).ids.length).toBe(3);
    // Different ids, or the same ids with different log-probs: the logits moved.
    expect(seq(trained).ids.join() !== seq(base).ids.join() || seq(trained).logprobs.some((lp, i) => Math.abs(lp - seq(base).logprobs[i]) > 1e-3)).toBe(true);
    expect(seq(imported).ids.join() !== seq(base).ids.join() || seq(imported).logprobs.some((lp, i) => Math.abs(lp - seq(base).logprobs[i]) > 1e-3)).toBe(true);
    expect(seq(initial).ids).toEqual(seq(base).ids);
    expect(seq(initial).logprobs).toEqual(seq(base).logprobs);
    expect(seq(baseAgain).ids).toEqual(seq(base).ids);
    expect(seq(baseAgain).logprobs).toEqual(seq(base).logprobs);
    expect(host.model!.engine.adapter).toBeNull();
  });

  it('keeps the last adapter uploaded: calls with the same checkpoint read the store once; concurrent calls do not mix adapters', async () => {
    const load = vi.spyOn(store, 'load');
    const loadsOfTrained = () => load.mock.calls.filter(([id]) => id === ids.trained).length;
    // The imported adapter is the cached one now: 'trained' is read once, then reused.
    const [first, base] = await Promise.all([run(ids.trained), run()]);
    const second = await run(ids.trained);
    expect(loadsOfTrained()).toBe(1);
    expect(first.sequences[0].logprobs).toEqual(alone.trained.sequences[0].logprobs);
    expect(second.sequences[0].logprobs).toEqual(alone.trained.sequences[0].logprobs);
    expect(base.sequences[0].logprobs).toEqual(alone.base.sequences[0].logprobs);
    load.mockRestore();
  });

  it('refuses a checkpoint trained on another model, one of another shape, and an unknown id, and stays usable', async () => {
    const other = describeError(await run(ids.otherModel).catch((e) => e));
    expect(other.code).toBe('adapter-mismatch');
    expect(other.message).toMatch(
      /^Checkpoint 'other model' does not fit the loaded model: it was trained on another base model than the one loaded \(.*weights hash/,
    );
    const wide = describeError(await run(ids.wide).catch((e) => e));
    expect(wide).toEqual({
      code: 'adapter-mismatch',
      message: expect.stringMatching(
        /^Checkpoint 'wide' does not fit the loaded model: tensor 'base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight' has shape \[2, 48\], the loaded model needs \[2, 32\]/,
      ),
    });
    const missing = describeError(await run('no-such-id').catch((e) => e));
    expect(missing).toEqual({ code: 'checkpoint-not-found', message: expect.stringMatching(/No checkpoint with id no-such-id/) });
    expect(host.model!.engine.adapter).toBeNull();
    expect((await run()).sequences[0].ids).toHaveLength(3);
  });

  it('a call cancelled while an earlier one runs never starts', async () => {
    const controller = new AbortController();
    const first = run(ids.trained);
    // An unknown id would fail with 'checkpoint-not-found' if the call started at all.
    const queued = host.generate(
      { promptIds: PROMPT, maxNewTokens: 3, sampling: { greedy: true }, adapter: { checkpointId: 'no-such-id' } },
      () => {},
      controller.signal,
    );
    controller.abort();
    expect(describeError(await queued.catch((e) => e))).toEqual({ code: 'cancelled', message: 'cancelled' });
    expect((await first).sequences[0].logprobs).toEqual(alone.trained.sequences[0].logprobs);
  });

  it('lists which stored checkpoints fit the loaded model', async () => {
    const listed = (await host.adapterRequest({ type: 'adapters', op: 'list' })) as AdapterListResult;
    expect(listed.modelLoaded).toBe(true);
    const byName = Object.fromEntries(listed.items.map((i) => [i.name, i]));
    expect(byName.trained).toMatchObject({ fits: true, imported: false });
    expect(byName.initial).toMatchObject({ fits: true, imported: false });
    expect(byName['imported fits']).toMatchObject({ fits: true, imported: true, baseModel: { repo: 'builtin/tiny-qwen2', revision: 'unspecified' } });
    expect(byName['other model']).toMatchObject({ fits: false, problem: expect.stringMatching(/another base model/) });
    expect(byName.wide).toMatchObject({
      fits: false,
      imported: true,
      problem: expect.stringMatching(/has shape \[2, 48\]/),
      baseModel: { repo: 'Qwen/Qwen2.5-1.5B-Instruct' },
    });
  });
});
