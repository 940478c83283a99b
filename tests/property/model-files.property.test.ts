// Property tests (fast-check, fixed seeds) of the two model files a user or a hub mirror hands us
// (issue #12): config.json and safetensors. Properties and bounds:
//  - config.json with arbitrary field replacements (huge, negative, fractional, prototype-named
//    strings, nested JSON): parses to a config within MODEL_LIMITS whose tensor list is bounded,
//    or throws a ModelConfigError that names config.json and a field; < 500 ms each (600 runs);
//  - safetensors with arbitrary byte flips, header-text edits and length-prefix changes: opens and
//    reads every tensor, or fails with a SafetensorsError/ModelLoadError naming the file; < 500 ms
//    each (500 runs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/hf-io/byte-source';
import { expectedTensors, MODEL_LIMITS, parseModelConfig } from '../../src/hf-io/config';
import { fromFloat32 } from '../../src/hf-io/dtypes';
import { ModelConfigError, ModelLoadError } from '../../src/hf-io/errors';
import { SafetensorsFile, tensorToFloat32 } from '../../src/hf-io/safetensors';
import { writeSafetensors } from '../../src/hf-io/safetensors-writer';
import { within } from './helpers';

const QWEN3 = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  bos_token_id: 1,
  eos_token_id: [2, 3],
  head_dim: 16,
  hidden_act: 'silu',
  hidden_size: 64,
  intermediate_size: 96,
  max_position_embeddings: 4096,
  model_type: 'qwen3',
  num_attention_heads: 4,
  num_hidden_layers: 3,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 512,
};
const FIELDS = [...Object.keys(QWEN3), 'dtype', 'rope_parameters', 'layer_types', 'use_sliding_window', '__proto__', 'constructor'];
const hostileValue = fc.oneof(
  fc.constantFrom(
    null,
    0,
    -1,
    1.5,
    1e9,
    1e300,
    2 ** 31,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    true,
    '',
    'constructor',
    '__proto__',
    'toString',
    'float16',
    'torch.bfloat16',
    [],
    {},
    ['Qwen2ForCausalLM'],
    { rope_type: 'default', rope_theta: 5 },
  ),
  fc.integer({ min: 1, max: 1 << 22 }),
  fc.json({ maxDepth: 3 }).map((t) => JSON.parse(t) as unknown),
);

describe('property: config.json under arbitrary field values', () => {
  it('parses within the limits or names the field, within 500 ms (600 runs, seed 1207)', async () => {
    let ok = 0,
      refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...FIELDS), hostileValue, fc.boolean()), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (edits, asText) => {
          const json: Record<string, unknown> = JSON.parse(JSON.stringify(QWEN3));
          for (const [field, value, remove] of edits) {
            if (remove) delete json[field];
            else Object.defineProperty(json, field, { value, writable: true, enumerable: true, configurable: true });
          }
          await within(500, () => {
            let config;
            try {
              config = parseModelConfig(asText ? JSON.stringify(json) : json);
            } catch (e) {
              expect(e).toBeInstanceOf(ModelConfigError);
              expect((e as Error).message).toMatch(/^config\.json: .*(field|"architectures"|head dimension|rope)/);
              refused++;
              return;
            }
            ok++;
            expect(config.numLayers).toBeLessThanOrEqual(MODEL_LIMITS.num_hidden_layers);
            expect(config.vocabSize).toBeLessThanOrEqual(MODEL_LIMITS.vocab_size);
            expect(config.hiddenSize).toBeLessThanOrEqual(MODEL_LIMITS.hidden_size);
            expect(['float32', 'float16', 'bfloat16']).toContain(config.dtype);
            expect(expectedTensors(config).length).toBeLessThanOrEqual(3 + 16 * MODEL_LIMITS.num_hidden_layers);
          });
        },
      ),
      { seed: 1207, numRuns: 600 },
    );
    expect(ok).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });
});

describe('property: safetensors under arbitrary damage', () => {
  const valid = writeSafetensors(
    [
      {
        name: 'model.embed_tokens.weight',
        dtype: 'F32',
        shape: [4, 3],
        data: fromFloat32(
          Array.from({ length: 12 }, (_, i) => i / 7),
          'F32',
        ),
      },
      { name: '__proto__', dtype: 'BF16', shape: [2], data: fromFloat32([1, -2], 'BF16') },
      { name: 'constructor', dtype: 'F16', shape: [3, 1], data: fromFloat32([0.5, 1, 2], 'F16') },
    ],
    { format: 'pt' },
  );
  const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));

  const damage = fc.oneof(
    // flip bytes anywhere
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => (b: Uint8Array) => {
      const c = b.slice();
      for (const [i, v] of flips) c[i] = v;
      return c;
    }),
    // edit the header text (kept as text, so JSON-level damage is exercised), fixing the length prefix
    fc.tuple(fc.nat(headerLength), fc.nat(40), fc.string({ maxLength: 30 })).map(([at, del, ins]) => (b: Uint8Array) => {
      const text = new TextDecoder().decode(b.subarray(8, 8 + headerLength));
      const edited = new TextEncoder().encode(text.slice(0, at) + ins + text.slice(at + del));
      const out = new Uint8Array(8 + edited.length + (b.length - 8 - headerLength));
      new DataView(out.buffer).setBigUint64(0, BigInt(edited.length), true);
      out.set(edited, 8);
      out.set(b.subarray(8 + headerLength), 8 + edited.length);
      return out;
    }),
    // a wrong length prefix or a cut file
    fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat(valid.length)).map(([len, cut]) => (b: Uint8Array) => {
      const c = b.slice(0, Math.max(cut, 0));
      if (c.length >= 8) new DataView(c.buffer).setBigUint64(0, len, true);
      return c;
    }),
  );

  it('tensors named "__proto__" and "constructor" are written and read back like any other', async () => {
    const file = await SafetensorsFile.open(bytesSource('x.safetensors', valid));
    expect(file.names.sort()).toEqual(['__proto__', 'constructor', 'model.embed_tokens.weight']);
    expect([...tensorToFloat32(await file.tensor('__proto__'))]).toEqual([1, -2]);
    expect([...tensorToFloat32(await file.tensor('constructor'))]).toEqual([0.5, 1, 2]);
  });

  it('opens and reads, or fails naming the file, within 500 ms (500 runs, seed 1208)', async () => {
    let ok = 0,
      refused = 0;
    await fc.assert(
      fc.asyncProperty(damage, async (f) => {
        const bytes = f(valid);
        await within(500, async () => {
          try {
            const file = await SafetensorsFile.open(bytesSource('x.safetensors', bytes));
            for await (const t of file.tensors()) expect(tensorToFloat32(t).length).toBe(t.shape.reduce((a, b) => a * b, 1));
            ok++;
          } catch (e) {
            expect(e).toBeInstanceOf(ModelLoadError);
            expect((e as Error).message).toMatch(/^x\.safetensors/);
            refused++;
          }
        });
      }),
      { seed: 1208, numRuns: 500 },
    );
    expect(ok).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});
