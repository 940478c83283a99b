// The whole GPU engine against Hugging Face's own Qwen2/Qwen3 code (tests/fixtures/models),
// as llm.c's test_gpt2 compares with PyTorch.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import type { WeightFormat } from '../../../src/engine/quant/formats';
import { getTestDevice } from '../../helpers/gpu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_MODEL_NAMES, fixtureDir, loadFixtureModel, loadReference } from '../../helpers/fixture-models';

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

describe('quantized paths on trained fixtures (confident predictions, like a real model)', () => {
  it.each(['qwen2-tiny-trained', 'qwen3-tiny-trained'])(
    '%s: q8 and q4 keep at least 98 percent top-1 agreement with f32; NLL change reported',
    async (name) => {
      const ref = JSON.parse(readFileSync(join(fixtureDir(name), 'reference.json'), 'utf8')) as {
        eval: { sequences: number[][]; top1: number[][]; nll_mean: number };
        python_fake_quant: Record<'q8' | 'q4', { top1_agreement: number; nll_mean: number }>;
      };
      for (const format of ['q8', 'q4'] as const) {
        const engine = await engineFor(name, format);
        try {
          const V = engine.config.vocabSize;
          let agree = 0;
          let total = 0;
          let nll = 0;
          for (let s = 0; s < ref.eval.sequences.length; s += 2) {
            const batch = ref.eval.sequences.slice(s, s + 2);
            const logits = await engine.logits(batch);
            batch.forEach((seq, b) => {
              for (let t = 0; t < seq.length - 1; t++) {
                const row = logits[b].subarray(t * V, (t + 1) * V);
                let best = 0;
                let max = -Infinity;
                for (let i = 0; i < V; i++)
                  if (row[i] > max) {
                    max = row[i];
                    best = i;
                  }
                let sum = 0;
                for (let i = 0; i < V; i++) sum += Math.exp(row[i] - max);
                nll += -(row[seq[t + 1]] - max - Math.log(sum));
                agree += best === ref.eval.top1[s + b][t] ? 1 : 0;
                total++;
              }
            });
          }
          const agreement = agree / total;
          const nllMean = nll / total;
          console.log(
            `${name} ${format}: top-1 agreement ${agreement.toFixed(4)}, NLL ${nllMean.toFixed(4)} vs f32 ${ref.eval.nll_mean.toFixed(4)} (perplexity ×${Math.exp(nllMean - ref.eval.nll_mean).toFixed(4)})`,
          );
          expect(agreement).toBeGreaterThanOrEqual(0.98);
          // The GPU path quantizes exactly like the Python fake-quant reference.
          expect(Math.abs(nllMean - ref.python_fake_quant[format].nll_mean)).toBeLessThan(2e-3);
        } finally {
          engine.destroy();
        }
      }
    },
  );
});
