// The logits buffer holds a bounded number of rows (planLogitRows): enough for every sequence of a
// batch, otherwise ≤ 64 MiB, instead of one full-vocabulary row per prefill token (311 MB for
// Qwen at 512 tokens). Full-logits calls step through their tokens that many at a time; the tiny
// real-vocabulary model (151936 ids) makes that 110 rows, so 131 tokens take two steps.
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../models/tiny-model';
import { loadModel } from '../../../src/hf-io/load-model';
import { MemoryModelSource } from '../../../src/hf-io/sources';
import { tensorToFloat32 } from '../../../src/hf-io/safetensors';
import { QwenEngine } from '../../../src/engine/engine';
import { LOGITS_BUDGET_BYTES, planLogitRows } from '../../../src/engine/model/activations';
import { qwenForwardCpu } from '../../../src/engine/reference/qwen-cpu';
import { testContext } from '../../helpers/gpu';

describe('bounded logit rows', () => {
  it('plans rows for the batch, else within the budget, never more than a step has tokens', () => {
    const qwen = { vocabSize: 151936 };
    expect(planLogitRows(qwen, 1, 512)).toBe(Math.floor(LOGITS_BUDGET_BYTES / (151936 * 4)));
    expect(planLogitRows(qwen, 256, 512)).toBe(256);
    expect(planLogitRows(qwen, 1, 16)).toBe(16);
    expect(planLogitRows({ vocabSize: 512 }, 1, 512)).toBe(512);
  });

  it('full logits over more tokens than the buffer has rows match the CPU reference model', async () => {
    const tiny = makeTinyModel({ arch: 'qwen2', vocab: 'real' });
    const model = await loadModel(new MemoryModelSource(tiny.files));
    const weights = new Map<string, Float32Array>();
    for (const name of model.checkpoint.names()) weights.set(name, tensorToFloat32(await model.checkpoint.tensor(name)));
    const engine = await QwenEngine.create(await testContext(), model.config, model.checkpoint, { format: 'f32', maxContext: 160, maxBatch: 2 });
    try {
      expect(engine.acts.maxLogitRows).toBe(110);
      // The estimate the UI can show before loading is exactly what the engine holds (one size table).
      expect(QwenEngine.estimateActivationBytes(model.config, engine.options.maxStepTokens, 2)).toBe(engine.memoryReport().activations);
      const ids = Array.from({ length: 131 }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
      const [got] = await engine.logits([ids]);
      const want = qwenForwardCpu(model.config, (n) => weights.get(n)!, ids);
      let maxDiff = 0;
      let sumSq = 0;
      for (let i = 0; i < want.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
        sumSq += want[i] * want[i];
      }
      // Same bound as the Hugging Face fixtures: max |Δ| ≤ 1e-4 × std of the reference logits.
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * Math.sqrt(sumSq / want.length));
    } finally {
      engine.destroy();
    }
  });
});
