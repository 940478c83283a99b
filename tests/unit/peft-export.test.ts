// PEFT adapter export/import without a GPU: round trips, PEFT's own fixture files re-exported
// byte for byte, the name/dtype variants PEFT writes, and the adapters we refuse (with the reason).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromFloat32, type TensorDtype } from '../../src/hf-io/dtypes';
import { writeSafetensors } from '../../src/hf-io/safetensors-writer';
import { checkpointToPeftFiles, exportPeftAdapter, peftFilesToCheckpointAdapter, type ExportPeftInput } from '../../src/peft/export';
import { importPeftAdapter, readPeftTensors, type PeftTensor } from '../../src/peft/import';
import { bytesSource } from '../../src/hf-io/byte-source';
import { fixtureDir } from '../helpers/fixture-models';

const NAME = (layer: number, block: string, module: string, which: 'A' | 'B') =>
  `base_model.model.model.layers.${layer}.${block}.${module}.lora_${which}.weight`;
const BLOCK: Record<string, string> = { q_proj: 'self_attn', v_proj: 'self_attn', down_proj: 'mlp' };
// in/out features of a made-up model: hidden 8, intermediate 12, kv width 4.
const FEATURES: Record<string, [number, number]> = { q_proj: [8, 8], v_proj: [8, 4], down_proj: [12, 8] };

function seeded(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

function smallAdapter(rank = 2, targets = ['q_proj', 'v_proj', 'down_proj'], layers = 2): Map<string, PeftTensor> {
  const rand = seeded(7);
  const tensors = new Map<string, PeftTensor>();
  for (let l = 0; l < layers; l++) {
    for (const t of targets) {
      const [inF, outF] = FEATURES[t];
      tensors.set(NAME(l, BLOCK[t], t, 'A'), { shape: [rank, inF], values: Float32Array.from({ length: rank * inF }, rand) });
      tensors.set(NAME(l, BLOCK[t], t, 'B'), { shape: [outF, rank], values: Float32Array.from({ length: outF * rank }, rand) });
    }
  }
  return tensors;
}

function input(overrides: Partial<ExportPeftInput> = {}): ExportPeftInput {
  return { tensors: smallAdapter(), rank: 2, alpha: 5, targetModules: ['q_proj', 'v_proj', 'down_proj'], ...overrides };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const json = (bytes: Uint8Array) => JSON.parse(text(bytes)) as Record<string, unknown>;

/** adapter_config.json of the small adapter with some fields changed. */
function configWith(fields: Record<string, unknown>): string {
  return JSON.stringify({ ...json(exportPeftAdapter(input())['adapter_config.json']), ...fields });
}

function weightsOf(tensors: Map<string, PeftTensor>, dtype: TensorDtype = 'F32', rename = (n: string) => n): Uint8Array {
  return writeSafetensors([...tensors].map(([name, t]) => ({ name: rename(name), dtype, shape: t.shape, data: fromFloat32(t.values, dtype) })));
}

describe('exportPeftAdapter → importPeftAdapter', () => {
  it('returns the same tensors (bit for bit), rank, alpha and targets', async () => {
    const tensors = smallAdapter();
    const files = exportPeftAdapter(input({ tensors, baseModel: { repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'abc123' } }));
    const back = await importPeftAdapter({ config: files['adapter_config.json'], weights: files['adapter_model.safetensors'] });
    expect(back.config).toEqual({ rank: 2, alpha: 5, targets: ['q_proj', 'v_proj', 'down_proj'] });
    expect(back.baseModel).toEqual({ repo: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'abc123' });
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      expect(back.tensors.get(name)!.shape).toEqual(t.shape);
      expect(Buffer.from(back.tensors.get(name)!.values.buffer).equals(Buffer.from(t.values.buffer))).toBe(true);
    }
  });

  it('writes the config fields PeftModel.from_pretrained reads, with the keys PEFT 0.21 writes', () => {
    const config = json(exportPeftAdapter(input({ dropout: 0.05 }))['adapter_config.json']);
    const peftWritten = JSON.parse(readFileSync(join(fixtureDir('qwen2-tiny-gqa'), 'lora', 'adapter_config.json'), 'utf8'));
    expect(Object.keys(config)).toEqual(Object.keys(peftWritten));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 2,
      lora_alpha: 5,
      lora_dropout: 0.05,
      bias: 'none',
      fan_in_fan_out: false,
      base_model_name_or_path: null,
      revision: null,
      inference_mode: true,
      use_rslora: false,
      use_dora: false,
      init_lora_weights: true,
      modules_to_save: null,
      layers_to_transform: null,
      target_modules: ['q_proj', 'v_proj', 'down_proj'],
    });
  });

  it('adds a model card naming the base model as inert quoted text, unless asked not to', () => {
    const repo = 'local "folder"\n<script>';
    const card = text(exportPeftAdapter(input({ baseModel: { repo } }))['README.md']!);
    expect(card).toContain(`base_model: ${JSON.stringify(repo)}`);
    expect(card.split('\n').filter((l) => l.includes('<script>'))).toHaveLength(1);
    expect(exportPeftAdapter(input({ modelCard: false }))['README.md']).toBeUndefined();
  });
});

describe.each(['qwen2-tiny-gqa', 'qwen3-tiny'])('PEFT-written fixture adapter of %s', (model) => {
  const dir = join(fixtureDir(model), 'lora');
  it("imported then exported gives adapter_model.safetensors byte-identical to PEFT's", async () => {
    const peftWeights = new Uint8Array(readFileSync(join(dir, 'adapter_model.safetensors')));
    const imported = await importPeftAdapter({ config: readFileSync(join(dir, 'adapter_config.json'), 'utf8'), weights: peftWeights });
    const raw = await readPeftTensors(bytesSource('peft', peftWeights));
    expect(imported.tensors.size).toBe(raw.size);
    const files = exportPeftAdapter({
      tensors: imported.tensors,
      rank: imported.config.rank,
      alpha: imported.config.alpha,
      targetModules: imported.config.targets,
    });
    expect(Buffer.from(files['adapter_model.safetensors']).equals(Buffer.from(peftWeights))).toBe(true);
    const config = json(files['adapter_config.json']);
    expect([config.r, config.lora_alpha]).toEqual([4, 8]);
    expect(new Set(config.target_modules as string[])).toEqual(new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']));
  });
});

describe('importPeftAdapter reads what PEFT versions write', () => {
  const config = configWith({});
  it('normalises the ".default" adapter-name infix', async () => {
    const tensors = smallAdapter();
    const weights = weightsOf(tensors, 'F32', (n) => n.replace(/\.lora_([AB])\.weight$/, '.lora_$1.default.weight'));
    const back = await importPeftAdapter({ config, weights });
    expect([...back.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    expect([...back.tensors.get(NAME(1, 'mlp', 'down_proj', 'B'))!.values]).toEqual([...tensors.get(NAME(1, 'mlp', 'down_proj', 'B'))!.values]);
  });

  it.each(['F16', 'BF16'] as const)('decodes %s tensors to f32', async (dtype) => {
    // Multiples of 1/64 in [-1, 1] are exact in f16 and bf16, so the decode must give them back exactly.
    const tensors = smallAdapter();
    for (const t of tensors.values()) t.values = t.values.map((v) => Math.round(v * 64) / 64);
    const back = await importPeftAdapter({ config, weights: weightsOf(tensors, dtype) });
    for (const [name, t] of tensors) expect([...back.tensors.get(name)!.values], name).toEqual([...t.values]);
  });
});

describe('importPeftAdapter refuses adapters it cannot apply exactly', () => {
  const weights = weightsOf(smallAdapter());
  it.each([
    [{ target_modules: '.*\\.(q|v)_proj' }, /"target_modules" is the pattern .*patterns are not supported/],
    [{ use_dora: true }, /DoRA adapters are not supported/],
    [{ use_rslora: true }, /rsLoRA scaling is not supported/],
    [{ modules_to_save: ['lm_head'] }, /"modules_to_save" \(\["lm_head"\]\) is not supported/],
    [{ bias: 'all' }, /"bias" is "all"; only "none" is supported/],
    [{ peft_type: 'IA3' }, /peft_type is IA3, only LORA/],
    [{ layers_to_transform: [0] }, /"layers_to_transform" is not supported/],
    [{ rank_pattern: { q_proj: 8 } }, /"rank_pattern"/],
    [{ r: 3 }, /lora_A\.weight' has shape \[2, \d+\]; lora_A must be \[r, in\] with r = 3/],
    [{ target_modules: ['q_proj', 'v_proj'] }, /adapts down_proj, which is not in the target modules/],
    [{ target_modules: ['q_proj', 'v_proj', 'down_proj', 'lm_head'] }, /target module 'lm_head' is not supported/],
  ])('config %j', async (fields, message) => {
    await expect(importPeftAdapter({ config: configWith(fields), weights })).rejects.toThrow(message);
  });

  it('bad config bytes and JSON name the file', async () => {
    await expect(importPeftAdapter({ config: new Uint8Array([0xff, 0xfe]), weights })).rejects.toThrow(/adapter_config\.json: not valid UTF-8/);
    await expect(importPeftAdapter({ config: '{"r": 2,', weights })).rejects.toThrow(/adapter_config\.json: not valid JSON/);
  });

  const config = configWith({});
  const edited = (edit: (m: Map<string, PeftTensor>) => void, rename?: (n: string) => string) => {
    const tensors = smallAdapter();
    edit(tensors);
    return weightsOf(tensors, 'F32', rename);
  };
  it.each([
    [
      'a missing lora_B',
      edited((m) => m.delete(NAME(1, 'self_attn', 'v_proj', 'B'))),
      /layers\.1\.self_attn\.v_proj\.lora_A\.weight' has no matching '.*v_proj\.lora_B\.weight'/,
    ],
    [
      'a missing layer module',
      edited((m) => {
        m.delete(NAME(0, 'self_attn', 'q_proj', 'A'));
        m.delete(NAME(0, 'self_attn', 'q_proj', 'B'));
      }),
      /layers\.0\.self_attn\.q_proj\.lora_A\.weight' is missing/,
    ],
    [
      'an embedding tensor',
      edited((m) => m.set('base_model.model.model.embed_tokens.lora_embedding_A', { shape: [2, 4], values: new Float32Array(8) })),
      /'base_model\.model\.model\.embed_tokens\.lora_embedding_A' is not a LoRA weight name/,
    ],
    [
      'a module in the wrong block',
      edited(
        () => {},
        (n) => n.replace('self_attn.q_proj', 'mlp.q_proj'),
      ),
      /'base_model\.model\.model\.layers\.0\.mlp\.q_proj\.lora_A\.weight' is not a LoRA weight name/,
    ],
    [
      'a NaN',
      edited((m) => {
        m.get(NAME(0, 'mlp', 'down_proj', 'A'))!.values[5] = NaN;
      }),
      /down_proj\.lora_A\.weight' has a non-finite value \(NaN\) at index 5/,
    ],
    [
      'in-features differing by layer',
      edited((m) => {
        m.set(NAME(1, 'self_attn', 'q_proj', 'A'), { shape: [2, 6], values: new Float32Array(12) });
      }),
      /layers\.1\.self_attn\.q_proj\.lora_A\.weight' has shape \[2, 6\], but q_proj has in features 8 in another layer/,
    ],
  ])('%s', async (_what, weights, message) => {
    await expect(importPeftAdapter({ config, weights })).rejects.toThrow(message);
  });

  it('a tensor both with and without the ".default" infix', async () => {
    const tensors = smallAdapter();
    const both = writeSafetensors([
      ...[...tensors].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape, data: fromFloat32(t.values, 'F32') })),
      { name: NAME(0, 'mlp', 'down_proj', 'A').replace('.weight', '.default.weight'), dtype: 'F32', shape: [2, 12], data: new Uint8Array(96) },
    ]);
    await expect(importPeftAdapter({ config, weights: both })).rejects.toThrow(/appears twice \(with and without the '\.default' adapter name\)/);
  });

  it('a truncated safetensors file names the file', async () => {
    await expect(importPeftAdapter({ config, weights: weights.subarray(0, weights.length - 4) })).rejects.toThrow(/adapter_model\.safetensors: /);
  });
});

describe('exportPeftAdapter validates its input', () => {
  it.each([
    [{ rank: 0 }, /exportPeftAdapter: rank must be a positive integer, got 0/],
    [{ alpha: -1 }, /alpha must be a positive number, got -1/],
    [{ rank: 3 }, /q_proj\.lora_A\.weight' has shape \[2, 8\]; lora_A must be \[r, in\] with r = 3/],
    [{ targetModules: ['q_proj', 'v_proj', 'down_proj', 'embed_tokens'] }, /target module 'embed_tokens' is not supported/],
    [{ targetModules: ['q_proj', 'q_proj', 'v_proj', 'down_proj'] }, /list a module twice/],
    [{ dropout: 1 }, /dropout must be in \[0, 1\)/],
    [{ tensors: new Map() }, /the adapter has no tensors/],
  ])('%j', (overrides, message) => {
    expect(() => exportPeftAdapter(input(overrides as Partial<ExportPeftInput>))).toThrow(message);
  });

  it('names with the adapter infix, unpaired tensors and wrong value counts', () => {
    const infix = new Map([...smallAdapter()].map(([n, t]) => [n.replace('.weight', '.default.weight'), t]));
    expect(() => exportPeftAdapter(input({ tensors: infix }))).toThrow(/lora_A\.default\.weight' is not a LoRA weight name we understand/);
    const unpaired = smallAdapter();
    unpaired.delete(NAME(0, 'self_attn', 'q_proj', 'A'));
    expect(() => exportPeftAdapter(input({ tensors: unpaired }))).toThrow(
      /layers\.0\.self_attn\.q_proj\.lora_B\.weight' has no matching '.*q_proj\.lora_A\.weight'/,
    );
    const short = smallAdapter();
    short.get(NAME(1, 'self_attn', 'v_proj', 'B'))!.values = new Float32Array(3);
    expect(() => exportPeftAdapter(input({ tensors: short }))).toThrow(/v_proj\.lora_B\.weight' has 3 values but shape \[4, 2\] needs 8/);
  });
});

describe('checkpoint store ⇄ PEFT files', () => {
  it("a checkpoint's adapter exports with its base model and imports back to the same lora/adapter", async () => {
    const adapter = Object.fromEntries([...smallAdapter()].map(([n, t]) => [n, { shape: t.shape, data: t.values }]));
    const lora = { rank: 2, alpha: 5, targetModules: ['q_proj', 'v_proj', 'down_proj'] };
    const baseModel = { repo: 'Qwen/Qwen3-0.6B', revision: 'main', configSha256: '0', weightsSha256: '0', files: [], scheme: 'sampled-v1' as const };
    const files = checkpointToPeftFiles({ adapter, lora, baseModel });
    expect(json(files['adapter_config.json'])).toMatchObject({ base_model_name_or_path: 'Qwen/Qwen3-0.6B', revision: 'main', r: 2, lora_alpha: 5 });
    const back = await peftFilesToCheckpointAdapter({ config: files['adapter_config.json'], weights: files['adapter_model.safetensors'] });
    expect(back.lora).toEqual(lora);
    expect(back.baseModel).toEqual({ repo: 'Qwen/Qwen3-0.6B', revision: 'main' });
    expect(Object.keys(back.adapter).sort()).toEqual(Object.keys(adapter).sort());
    for (const [name, t] of Object.entries(adapter)) {
      expect(back.adapter[name].shape).toEqual(t.shape);
      expect([...back.adapter[name].data]).toEqual([...t.data]);
    }
  });
});
