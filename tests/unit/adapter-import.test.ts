// Importing PEFT adapters into the checkpoint store (no GPU; fake-indexeddb): what an imported
// checkpoint records, the shape check against a model, and malformed files refused by name with
// nothing stored.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { fromFloat32 } from '../../src/hf-io/dtypes';
import { writeSafetensors } from '../../src/hf-io/safetensors-writer';
import { CheckpointStore } from '../../src/checkpoints/store';
import { peftLoraTensorName } from '../../src/checkpoints/peft-names';
import { adapterShapeProblem } from '../../src/worker-api/adapter-fit';
import { AdapterError, CheckpointAdapters } from '../../src/worker-api/adapter-host';
import { NOT_FINGERPRINTED, peftImportToCheckpoint, pickPeftFiles } from '../../src/worker-api/adapter-import';
import type { ModelConfig } from '../../src/hf-io/config';
import { loraPeftFiles, loraTensors, TINY_QWEN2_SHAPE } from '../helpers/lora-files';

let store: CheckpointStore;
let adapters: CheckpointAdapters;
beforeEach(() => {
  store = new CheckpointStore({ indexedDB: new IDBFactory(), storage: null });
  adapters = new CheckpointAdapters(store);
});

const SPEC = { rank: 2, bScale: 0.1 };
const tiny = (folder?: string) => {
  const files = loraPeftFiles(TINY_QWEN2_SHAPE, SPEC, 'Qwen/Qwen2.5-0.5B-Instruct');
  const at = (name: string) => (folder ? { webkitRelativePath: `${folder}/${name}` } : {});
  return [
    Object.assign(new File([files['adapter_config.json'] as BlobPart], 'adapter_config.json'), at('adapter_config.json')),
    Object.assign(new File([files['adapter_model.safetensors'] as BlobPart], 'adapter_model.safetensors'), at('adapter_model.safetensors')),
  ];
};
const config = (): ModelConfig => ({ ...TINY_QWEN2_SHAPE }) as ModelConfig;

/** adapter_model.safetensors from raw tensors, bypassing the exporter's checks. */
function rawWeights(tensors: Record<string, { shape: number[]; data: Float32Array }>): File {
  return new File(
    [
      writeSafetensors(
        Object.entries(tensors).map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: fromFloat32(t.data, 'F32') })),
      ) as BlobPart,
    ],
    'adapter_model.safetensors',
  );
}

async function importError(files: File[]): Promise<AdapterError> {
  const err = await adapters.importPeft(files).then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(AdapterError);
  expect(await store.list()).toEqual([]); // nothing stored
  return err as AdapterError;
}

describe('PEFT import', () => {
  it('stores the adapter bit-exactly at step 0 with a fresh optimizer and the base model the config names', async () => {
    const summary = await adapters.importPeft(tiny('my-adapter'));
    expect(summary.name).toBe('my-adapter');
    expect(summary.step).toBe(0);
    expect(summary.baseModel).toEqual({ repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'unspecified' });
    const loaded = await store.load(summary.id, { expectedBaseModel: 'any' });
    const expected = loraTensors(TINY_QWEN2_SHAPE, SPEC);
    expect(Object.keys(loaded.adapter).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, t] of Object.entries(expected)) {
      expect(loaded.adapter[name].shape).toEqual(t.shape);
      expect(Array.from(loaded.adapter[name].data)).toEqual(Array.from(t.data));
      expect(loaded.optimizer.m[name].data.every((v) => v === 0)).toBe(true);
    }
    expect(loaded.optimizer.step).toBe(0);
    expect(loaded.lora).toEqual({ rank: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    expect(loaded.baseModel).toMatchObject({ configSha256: NOT_FINGERPRINTED, weightsSha256: NOT_FINGERPRINTED, files: [] });
    // Its shapes fit a model of the same shape, and not another.
    expect(adapterShapeProblem(loaded, config())).toBeUndefined();
    expect(adapterShapeProblem(loaded, { ...config(), hiddenSize: 64, headDim: 16 })).toMatch(/has shape \[2, 32\], the loaded model needs \[2, 64\]/);
    expect(adapterShapeProblem(loaded, { ...config(), numLayers: 3 })).toMatch(/layers\.2\.self_attn\.q_proj\.lora_A\.weight' is missing/);
    expect(adapterShapeProblem(loaded, { ...config(), numLayers: 1 })).toMatch(/is for layer 1, the loaded model has 1 layers/);
  });

  it("names the checkpoint after the weights file without a folder, and imports PEFT's own fixture", async () => {
    const picked = pickPeftFiles(tiny());
    expect(picked.name).toBe('adapter_model');
    const dir = join(process.cwd(), 'tests/fixtures/peft-roundtrip/adapter');
    const files = ['adapter_config.json', 'adapter_model.safetensors', 'README.md'].map((f) => new File([readFileSync(join(dir, f))], f));
    const checkpoint = await peftImportToCheckpoint(files, 'from PEFT');
    expect(checkpoint.name).toBe('from PEFT');
    expect(checkpoint.baseModel.repo).toBe('tests/fixtures/models/qwen2-tiny-gqa');
    expect(checkpoint.lora.rank).toBe(3);
  });

  it('refuses a config that is not JSON', async () => {
    const [, weights] = tiny();
    const err = await importError([new File(['{"r": 2,'], 'adapter_config.json'), weights]);
    expect(err.message).toMatch(/^adapter_config\.json: not valid JSON/);
  });

  it('refuses missing files by name', async () => {
    const [cfg, weights] = tiny();
    expect((await importError([cfg])).message).toMatch(/adapter_model\.safetensors is missing \(picked: adapter_config\.json\)/);
    expect((await importError([weights])).message).toMatch(/adapter_config\.json is missing/);
    expect((await importError([cfg, new File(['x'], 'adapter_model.bin')])).message).toMatch(/adapter_model\.bin .* not supported/);
  });

  it('refuses a missing tensor, a wrong shape and non-finite values, naming the tensor', async () => {
    const [cfg] = tiny();
    const good = loraTensors(TINY_QWEN2_SHAPE, SPEC);
    const missingName = peftLoraTensorName(1, 'down_proj', 'B');
    const { [missingName]: _dropped, ...missing } = good;
    expect((await importError([cfg, rawWeights(missing)])).message).toContain(missingName);

    const wrongName = peftLoraTensorName(0, 'v_proj', 'A');
    const wrong = { ...good, [wrongName]: { shape: [3, 32], data: new Float32Array(96) } };
    expect((await importError([cfg, rawWeights(wrong)])).message).toMatch(
      new RegExp(`'${wrongName.replace(/\./g, '\\.')}' has shape \\[3, 32\\]; lora_A must be \\[r, in\\] with r = 2`),
    );

    const nanName = peftLoraTensorName(1, 'gate_proj', 'B');
    const nan = { ...good, [nanName]: { shape: good[nanName].shape, data: good[nanName].data.map((v, i) => (i === 5 ? Infinity : v)) } };
    expect((await importError([cfg, rawWeights(nan)])).message).toMatch(/non-finite value \(Infinity\) at index 5/);
  });

  it('refuses a truncated safetensors file naming the file', async () => {
    const [cfg, weights] = tiny();
    const bytes = new Uint8Array(await weights.arrayBuffer());
    const err = await importError([cfg, new File([bytes.subarray(0, bytes.length - 10) as BlobPart], 'adapter_model.safetensors')]);
    expect(err.message).toMatch(/^adapter_model\.safetensors: tensor .* out of bounds of the \d+-byte data section/);
  });

  it('lists imported checkpoints as not fitting while no model is loaded', async () => {
    await adapters.importPeft(tiny('a'));
    const listed = await adapters.list(undefined);
    expect(listed.modelLoaded).toBe(false);
    expect(listed.items).toEqual([expect.objectContaining({ name: 'a', fits: false, problem: 'no model is loaded' })]);
  });
});
