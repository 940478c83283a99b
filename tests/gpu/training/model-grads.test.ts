// The whole model's LoRA gradients against PEFT (tests/fixtures/models/*/lora, made with Hugging
// Face's Qwen code and PEFT's LoRA): relative error ≤ 1e-3 in f32 for every adapter tensor.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import { nodeFileSource } from '../../../src/hf-io/node-sources';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import { TrainingModel } from '../../../src/training/model/train-model';
import { readPeftTensors } from '../../../src/peft/import';
import { LORA_TARGETS } from '../../../src/engine/ops/lora-targets';
import { getTestDevice } from '../../helpers/gpu';
import { fixtureDir, loadFixtureModel } from '../../helpers/fixture-models';

async function setup(name: string, recompute: boolean, plan?: { sequences: number; seqLen: number }) {
  const dir = join(fixtureDir(name), 'lora');
  const ref = JSON.parse(readFileSync(join(dir, 'lora_reference.json'), 'utf8'));
  const ctx = new GpuContext((await getTestDevice()).device);
  const model = await loadFixtureModel(name);
  const engine = await QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext: 64, maxBatch: 1 });
  const adapter = new LoraAdapter(ctx, model.config, { rank: ref.lora.r, alpha: ref.lora.lora_alpha, targets: LORA_TARGETS });
  adapter.load(await readPeftTensors(await nodeFileSource(join(dir, 'adapter_model.safetensors'))));
  const train = new TrainingModel(engine, adapter, { sequences: plan?.sequences ?? 1, seqLen: plan?.seqLen ?? ref.input_ids.length, recompute, lmHeadRows: 4 });
  return { ref, dir, ctx, engine, adapter, train };
}

function maxRelativeError(got: Float32Array, want: Float32Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  return maxDiff / maxRef;
}

describe.each([
  ['qwen2-tiny-gqa', false],
  ['qwen3-tiny', true],
] as const)('LoRA gradients of %s (recompute %s) against PEFT', (name, recompute) => {
  it('log-probs with the adapter match, and every dA/dB is within 1e-3 relative error', async () => {
    await expectPeftGradients(await setup(name, recompute), (train, ids, weights) => train.setBatch([ids], [weights]));
  });

  // A plan bigger than the batch (3 × 64 buffers): each micro-batch runs at its own B and bucketed
  // T. A longer 2-sequence batch runs first (so the buffers hold other data), then the reference
  // sequence next to a short zero-weight one: same log-probs and gradients as the exact plan.
  it('the same with a larger plan, after a micro-batch of another size', async () => {
    const setupResult = await setup(name, recompute, { sequences: 3, seqLen: 64 });
    const { train } = setupResult;
    const vocab = setupResult.engine.config.vocabSize;
    train.setBatch([Array.from({ length: 50 }, (_, i) => (i * 7 + 3) % vocab), [1, 2, 3]], [new Array(50).fill(0.02), [0, 1, 1]]);
    expect(train.seqLen).toBe(64);
    expect(train.rows).toBe(128);
    await train.forwardLogProbs();
    await expectPeftGradients(setupResult, (t, ids, weights) => {
      t.setBatch([ids, [5, 6, 7, 8, 9]], [weights, [0, 0, 0, 0, 0]]);
      expect(t.seqLen).toBe(Math.ceil(ids.length / 16) * 16);
      expect(t.rows).toBe(2 * t.seqLen);
    });
  });
});

/** Uploads the reference sequence with `upload`, then checks log-probs and every gradient. */
async function expectPeftGradients(
  { ref, dir, adapter, train, engine }: Awaited<ReturnType<typeof setup>>,
  upload: (train: TrainingModel, ids: number[], weights: number[]) => void,
) {
  try {
    const sum = (ref.loss_mask as number[]).reduce((a, b) => a + b, 0);
    upload(
      train,
      ref.input_ids,
      (ref.loss_mask as number[]).map((m) => m / sum),
    );
    const logProbs = await train.forwardLogProbs();
    (ref.logprobs_with_adapter as number[]).forEach((lp, t) => expect(Math.abs(logProbs[t] - lp)).toBeLessThan(1e-4));
    const encoder = engine.ctx.device.createCommandEncoder();
    adapter.encodeZeroGrad(encoder);
    engine.ctx.device.queue.submit([encoder.finish()]);
    await train.backward();
    const grads = await adapter.read('grads');
    const want = await readPeftTensors(await nodeFileSource(join(dir, 'grads.safetensors')));
    expect([...grads.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [tensor, g] of grads) {
      const err = maxRelativeError(g.values, want.get(tensor)!.values);
      expect(err, tensor).toBeLessThanOrEqual(1e-3);
    }
  } finally {
    train.destroy();
    adapter.destroy();
    engine.destroy();
  }
}
