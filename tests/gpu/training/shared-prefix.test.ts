// Shared-prefix training equals unpacked training: the G sequences of a group packed as
// [prompt | continuation 1 | … | continuation G] (one row, segment-masked attention, positions
// continuing from the prompt) give the same reference and old log-probs, the same GRPO loss and
// the same LoRA gradients as one row per sequence, to ≤ 1e-4 relative. Both fixture architectures
// (Qwen2 with GQA, Qwen3 with q/k norms), odd prompts, groups of G ∈ {1, 3, 8}, continuations of
// different lengths with unsampled tool tokens between turns, one empty continuation, and a second
// epoch with ratios away from 1 (some clipped).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QwenEngine } from '../../../src/engine/engine';
import { nodeFileSource } from '../../../src/hf-io/node-sources';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import { TrainingModel } from '../../../src/training/model/train-model';
import { readPeftTensors } from '../../../src/peft/import';
import { LORA_TARGETS } from '../../../src/engine/ops/lora-targets';
import { planMicroBatches, policyGradientPass, sharedPrefixLength, type PolicySample } from '../../../src/training/grpo/policy-pass';
import { testContext } from '../../helpers/gpu';
import type { GpuContext } from '../../../src/engine/gpu/context';
import { fixtureDir, loadFixtureModel } from '../../helpers/fixture-models';
import { seededRandom } from '../../helpers/numeric';

// One context for the file, so each shader compiles once (SwiftShader is slow).
let shared: Promise<GpuContext> | undefined;
// Three groups in one step: G = 1, 3 and 8, each with its own odd prompt length.
const GROUPS = [
  { G: 1, prompt: 9 },
  { G: 3, prompt: 13 },
  { G: 8, prompt: 11 },
];
// Per rollout: [sampled, tool (unsampled), sampled] token counts; [0, 0, 0] is the empty one.
const TURNS = [
  [5, 3, 4],
  [1, 0, 0],
  [9, 2, 1],
  [0, 0, 0],
  [7, 0, 0],
  [3, 4, 6],
  [11, 0, 0],
  [2, 5, 2],
];

function makeSamples(vocab: number): PolicySample[] {
  const rand = seededRandom(7);
  const id = () => 1 + Math.floor(rand() * (vocab - 1));
  const samples: PolicySample[] = [];
  GROUPS.forEach(({ G, prompt: length }, group) => {
    const prompt = Array.from({ length }, id);
    for (let g = 0; g < G; g++) {
      const [a, tool, b] = TURNS[(g + group) % TURNS.length];
      const ids = [...prompt];
      const positions: number[] = [];
      for (let k = 0; k < a; k++) {
        positions.push(ids.length);
        ids.push(id());
      }
      for (let k = 0; k < tool; k++) ids.push(id());
      for (let k = 0; k < b; k++) {
        positions.push(ids.length);
        ids.push(id());
      }
      const advantage = (rand() * 2 - 1) * 1.5;
      // The trainer drops sequences without sampled tokens (the empty continuation): same here.
      if (positions.length > 0) samples.push({ ids, positions, advantage, group });
    }
  });
  return samples;
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

describe.each(['qwen2-tiny-gqa', 'qwen3-tiny'])('shared-prefix training on %s', (name) => {
  it('groups of G = 1, 3 and 8: log-probs, GRPO loss and every LoRA gradient equal the unpacked step (≤ 1e-4 relative)', async () => {
    shared ??= testContext();
    const ctx = await shared;
    const model = await loadFixtureModel(name);
    const engine = await QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext: 64, maxBatch: 1 });
    const dir = join(fixtureDir(name), 'lora');
    const ref = JSON.parse(readFileSync(join(dir, 'lora_reference.json'), 'utf8'));
    const adapter = new LoraAdapter(ctx, model.config, { rank: ref.lora.r, alpha: ref.lora.lora_alpha, targets: LORA_TARGETS });
    // The fixture adapter has B ≠ 0, so the reference (no LoRA) differs from the policy: KL ≠ 0.
    adapter.load(await readPeftTensors(await nodeFileSource(join(dir, 'adapter_model.safetensors'))));
    const plain = new TrainingModel(engine, adapter, { sequences: 4, seqLen: 32, recompute: name === 'qwen3-tiny' });
    const packed = new TrainingModel(engine, adapter, { sequences: 1, seqLen: 4 * 32, recompute: name === 'qwen3-tiny' });
    try {
      const run = async (share: boolean) => {
        const samples = makeSamples(model.config.vocabSize);
        const batches = planMicroBatches(samples, { share, microBatch: 4, rowTokens: share ? 128 : 32 });
        const tokensInStep = samples.reduce((n, s) => n + s.positions.length, 0);
        const settings = { clipEps: 0.2, klBeta: 0.1, tokensInStep };
        const epochs = [];
        for (const epoch of [0, 1]) {
          const zero = ctx.device.createCommandEncoder();
          adapter.encodeZeroGrad(zero);
          ctx.device.queue.submit([zero.finish()]);
          const totals = await policyGradientPass(share ? packed : plain, batches, { ...settings, epoch });
          epochs.push({ totals, grads: await adapter.read('grads') });
          // Move the old log-probs (identically in both runs) so epoch 1 sees ratios ≠ 1.
          const rand = seededRandom(99);
          for (const s of samples) s.oldLogp = s.oldLogp!.map((v) => v + (rand() - 0.5) * 0.6);
        }
        return { samples, batches, epochs };
      };
      const a = await run(false);
      const b = await run(true);
      // One packed row per group; a group's prefix is its prompt minus the last token, whose row
      // predicts each continuation's first token. The G = 1 group needs no sharing; the empty
      // continuations (one in the G = 3 group, one in the G = 8 group) are not trained.
      expect(b.batches.map((batch) => batch.rows[0].prefix)).toEqual([0, 12, 10]);
      expect(b.batches.map((batch) => batch.samples.length)).toEqual([1, 2, 7]);
      expect(sharedPrefixLength(b.batches[2].samples)).toBe(10);
      expect(b.epochs[0].totals.tokensProcessed).toBe(a.epochs[0].totals.tokensProcessed - 1 * 12 - 6 * 10);
      a.samples.forEach((s, i) => {
        expect(relativeError(b.samples[i].refLogp!, s.refLogp!)).toBeLessThanOrEqual(1e-4);
      });
      for (const [epoch, ea] of a.epochs.entries()) {
        const eb = b.epochs[epoch];
        expect(Math.abs(eb.totals.loss - ea.totals.loss) / Math.abs(ea.totals.loss), `loss epoch ${epoch}`).toBeLessThanOrEqual(1e-4);
        expect(Math.abs(eb.totals.klSum - ea.totals.klSum) / ea.totals.klSum).toBeLessThanOrEqual(1e-4);
        expect(eb.totals.clipped).toBe(ea.totals.clipped);
        if (epoch === 1) expect(ea.totals.clipped).toBeGreaterThan(0);
        for (const [tensor, g] of ea.grads) expect(relativeError(eb.grads.get(tensor)!.values, g.values), `${tensor} epoch ${epoch}`).toBeLessThanOrEqual(1e-4);
      }
      // The old log-probs epoch 0 recorded (both runs shifted them by the same amounts since).
      a.samples.forEach((s, i) => expect(relativeError(b.samples[i].oldLogp!, s.oldLogp!)).toBeLessThanOrEqual(1e-4));
    } finally {
      plain.destroy();
      packed.destroy();
      adapter.destroy();
      engine.destroy();
    }
  }, 900_000);
});
