// The CPU reference forward (built from the ops' CPU references) against Hugging Face's logits.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';
import { tensorToFloat32 } from '../../src/hf-io/safetensors';
import { qwenForwardCpu } from '../../src/engine/reference/qwen-cpu';

const FIXTURES = join(process.cwd(), 'tests/fixtures/models');

async function loadF32(name: string) {
  const model = await loadModel(new NodeDirSource(join(FIXTURES, name)));
  const weights = new Map<string, Float32Array>();
  for (const tensorName of model.checkpoint.names()) weights.set(tensorName, tensorToFloat32(await model.checkpoint.tensor(tensorName)));
  const lookup = (n: string) => {
    const w = weights.get(n);
    if (!w) throw new Error(`missing tensor ${n}`);
    return w;
  };
  const reference = JSON.parse(readFileSync(join(FIXTURES, name, 'reference.json'), 'utf8'));
  return { config: model.config, lookup, reference };
}

describe('CPU reference forward vs Hugging Face', () => {
  it.each(['qwen2-tiny-gqa', 'qwen2-tiny-tied', 'qwen3-tiny', 'qwen2-tiny-gqa-bf16'])('%s: logits within 1e-4 × std of the HF logits', async (name) => {
    const { config, lookup, reference } = await loadF32(name);
    for (const row of [
      { ids: reference.input_ids, logits: reference.logits },
      { ids: reference.second_row.input_ids, logits: reference.second_row.logits },
    ]) {
      const got = qwenForwardCpu(config, lookup, row.ids);
      const expected = (row.logits as number[][]).flat();
      expect(got.length).toBe(expected.length);
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
      // The f32 bound: max |Δ| ≤ 1e-4 × std(reference logits).
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * reference.logits_std);
    }
  });

  it('rejects token ids outside the vocabulary', async () => {
    const { config, lookup } = await loadF32('qwen2-tiny-tied');
    expect(() => qwenForwardCpu(config, lookup, [1, config.vocabSize])).toThrow(/outside the vocabulary/);
  });
});
