// LoRA in the inference engine: applied in the same passes as the frozen (possibly quantized)
// base, switchable per call. Checked against PEFT's logits with the adapter.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import { generate } from '../../../src/engine/generate';
import { nodeFileSource } from '../../../src/hf-io/node-sources';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import { LORA_TARGETS } from '../../../src/engine/ops/lora-targets';
import { readPeftTensors } from '../../../src/peft/import';
import { getTestDevice } from '../../helpers/gpu';
import { fixtureDir, loadFixtureModel, loadReference } from '../../helpers/fixture-models';

function maxAbsDiff(a: Float32Array, b: number[][]): number {
  const flat = b.flat();
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs(a[i] - flat[i]));
  return m;
}

describe('LoRA in the inference engine', () => {
  it('matches PEFT with the adapter on, the base model with it off, and generates with it', async () => {
    const name = 'qwen2-tiny-gqa';
    const lora = JSON.parse(readFileSync(join(fixtureDir(name), 'lora', 'lora_reference.json'), 'utf8'));
    const base = loadReference(name);
    const ctx = new GpuContext((await getTestDevice()).device);
    const model = await loadFixtureModel(name);
    const engine = await QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext: 32, maxBatch: 1 });
    const adapter = new LoraAdapter(ctx, model.config, { rank: lora.lora.r, alpha: lora.lora.lora_alpha, targets: LORA_TARGETS });
    try {
      adapter.load(await readPeftTensors(await nodeFileSource(join(fixtureDir(name), 'lora', 'adapter_model.safetensors'))));
      engine.setAdapter(adapter);
      const [withAdapter] = await engine.logits([lora.input_ids]);
      expect(maxAbsDiff(withAdapter, lora.logits_with_adapter)).toBeLessThanOrEqual(1e-4 * lora.logits_with_adapter_std);
      // Decode with the adapter equals argmax of its full-sequence logits.
      const [out] = await generate(engine, [{ promptIds: lora.input_ids.slice(0, 5), maxNewTokens: 3, stopIds: [] }], { greedy: true });
      const [full] = await engine.logits([[...lora.input_ids.slice(0, 5), ...out.ids.slice(0, 2)]]);
      const V = model.config.vocabSize;
      for (let i = 0; i < 3; i++) {
        const row = full.subarray((4 + i) * V, (5 + i) * V);
        expect(out.ids[i]).toBe(row.indexOf(Math.max(...row)));
      }
      engine.setAdapter(null);
      const [without] = await engine.logits([base.input_ids]);
      expect(maxAbsDiff(without, base.logits)).toBeLessThanOrEqual(1e-4 * base.logits_std);
    } finally {
      engine.destroy();
      adapter.destroy();
    }
  });
});
