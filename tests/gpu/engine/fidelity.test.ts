// The whole GPU engine against Hugging Face's own Qwen2/Qwen3 code (tests/fixtures/models),
// as llm.c's test_gpt2 compares with PyTorch.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { getTestDevice } from '../../helpers/gpu';
import { FIXTURE_MODEL_NAMES, loadFixtureModel, loadReference } from '../../helpers/fixture-models';

async function engineFor(name: string, format: WeightFormat, extra: { maxStepTokens?: number; maxChunkBytes?: number } = {}) {
  const ctx = new GpuContext((await getTestDevice()).device);
  const model = await loadFixtureModel(name);
  return QwenEngine.create(ctx, model.config, model.checkpoint, { format, maxContext: 64, maxBatch: 2, ...extra });
}

function maxAbsDiff(a: Float32Array, b: number[][]): number {
  const flat = b.flat();
  expect(a.length).toBe(flat.length);
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs(a[i] - flat[i]));
  return m;
}

describe('engine fidelity (f32) against Hugging Face logits', () => {
  it.each(FIXTURE_MODEL_NAMES)('%s: both rows of a batch within 1e-4 × std(logits)', async (name) => {
    const ref = loadReference(name);
    const engine = await engineFor(name, 'f32');
    try {
      const [first, second] = await engine.logits([ref.input_ids, ref.second_row.input_ids]);
      const bound = 1e-4 * ref.logits_std;
      expect(maxAbsDiff(first, ref.logits)).toBeLessThanOrEqual(bound);
      expect(maxAbsDiff(second, ref.second_row.logits)).toBeLessThanOrEqual(bound);
    } finally {
      engine.destroy();
    }
  });

  it('chunked prefill (3 tokens per step) and split weight/KV buffers give the same logits', async () => {
    const name = 'qwen3-tiny';
    const ref = loadReference(name);
    const engine = await engineFor(name, 'f32', { maxStepTokens: 3, maxChunkBytes: 16 * 1024 });
    try {
      expect(engine.weights.embedding.chunks.length).toBeGreaterThan(1);
      const [logits] = await engine.logits([ref.input_ids]);
      expect(maxAbsDiff(logits, ref.logits)).toBeLessThanOrEqual(1e-4 * ref.logits_std);
    } finally {
      engine.destroy();
    }
  });
});
