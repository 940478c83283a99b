// The PEFT round trip (tests/fixtures/peft-roundtrip): an adapter exported by exportPeftAdapter
// and loaded by PeftModel.from_pretrained gives the logits our engine computes with it, merged
// into the base weights and as separate LoRA modules in the training model. PEFT's logits were
// recorded by tools/reference/peft_roundtrip.py; tolerance 1e-4 × std(logits), as for the engine.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuContext } from '../../../src/engine/gpu/context';
import { QwenEngine } from '../../../src/engine/engine';
import { nodeFileSource } from '../../../src/hf-io/node-sources';
import { mergeLora } from '../../../src/training/merged-weights';
import { LoraAdapter } from '../../../src/training/model/lora-adapter';
import { TrainingModel } from '../../../src/training/model/train-model';
import type { LoraTarget } from '../../../src/engine/ops/lora-targets';
import { importPeftAdapter } from '../../../src/peft/import';
import { ROUNDTRIP_ADAPTER_DIR, ROUNDTRIP_DIR, ROUNDTRIP_LORA, ROUNDTRIP_MODEL, roundTripAdapterFiles } from '../../../tools/reference/make_ts_adapter';
import { loadFixtureModel } from '../../helpers/fixture-models';
import { getTestDevice } from '../../helpers/gpu';

interface RoundTripReference {
  model: string;
  input_ids: number[];
  logits: number[][];
  logits_std: number;
  base_logits_max_abs_diff: number;
  peft_version: string;
}

const ref: RoundTripReference = JSON.parse(readFileSync(join(ROUNDTRIP_DIR, 'reference.json'), 'utf8'));
const T = ref.input_ids.length;
const tolerance = 1e-4 * ref.logits_std;

async function importFixtureAdapter() {
  return importPeftAdapter({
    config: readFileSync(join(ROUNDTRIP_ADAPTER_DIR, 'adapter_config.json')),
    weights: await nodeFileSource(join(ROUNDTRIP_ADAPTER_DIR, 'adapter_model.safetensors')),
  });
}

/** log_softmax(PEFT logits[t])[ids[t+1]] in float64, t = 0..T-2. */
function peftLogProbs(): number[] {
  return ref.input_ids.slice(1).map((next, t) => {
    const row = ref.logits[t];
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    return row[next] - logSum;
  });
}

describe("PEFT round trip: our exported adapter, loaded by PEFT, gives our engine's logits", () => {
  it('the fixture is for the model and adapter the generator describes, and the adapter matters', async () => {
    const { config, tensors } = await importFixtureAdapter();
    expect(ref.model).toBe(ROUNDTRIP_MODEL);
    expect(config).toEqual({ rank: ROUNDTRIP_LORA.rank, alpha: ROUNDTRIP_LORA.alpha, targets: [...ROUNDTRIP_LORA.targets] });
    expect(tensors.size).toBe(2 * 2 * ROUNDTRIP_LORA.targets.length);
    // Otherwise a no-op adapter would pass against the base logits.
    expect(ref.base_logits_max_abs_diff).toBeGreaterThan(100 * tolerance);
  });

  it('the committed adapter files are byte-identical to what exportPeftAdapter writes now', () => {
    const files = roundTripAdapterFiles();
    expect(readdirSync(ROUNDTRIP_ADAPTER_DIR).sort()).toEqual(Object.keys(files).sort());
    for (const [name, bytes] of Object.entries(files)) {
      expect(Buffer.from(readFileSync(join(ROUNDTRIP_ADAPTER_DIR, name))).equals(Buffer.from(bytes)), name).toBe(true);
    }
  });

  it("merged into the base (mergeLora + QwenEngine.logits): within 1e-4 × std of PEFT's logits", async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const model = await loadFixtureModel(ROUNDTRIP_MODEL);
    const { config, tensors } = await importFixtureAdapter();
    const engine = await QwenEngine.create(ctx, model.config, mergeLora(model.checkpoint, tensors, config), { format: 'f32', maxContext: T, maxBatch: 1 });
    try {
      const [logits] = await engine.logits([ref.input_ids]);
      const V = model.config.vocabSize;
      expect(logits.length).toBe(T * V);
      let maxDiff = 0;
      ref.logits.forEach((row, t) =>
        row.forEach((v, i) => {
          maxDiff = Math.max(maxDiff, Math.abs(logits[t * V + i] - v));
        }),
      );
      expect(maxDiff).toBeLessThanOrEqual(tolerance);
    } finally {
      engine.destroy();
    }
  });

  it('unmerged (LoraAdapter.load + TrainingModel.forwardLogProbs): log-probs within 1e-4 × std of log_softmax(PEFT logits)', async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const model = await loadFixtureModel(ROUNDTRIP_MODEL);
    const { config, tensors } = await importFixtureAdapter();
    const engine = await QwenEngine.create(ctx, model.config, model.checkpoint, { format: 'f32', maxContext: T, maxBatch: 1 });
    const adapter = new LoraAdapter(ctx, model.config, { rank: config.rank, alpha: config.alpha, targets: config.targets as LoraTarget[] });
    const train = new TrainingModel(engine, adapter, { sequences: 1, seqLen: T, recompute: false, lmHeadRows: 4 });
    try {
      adapter.load(tensors);
      train.setBatch([ref.input_ids]);
      const logProbs = await train.forwardLogProbs();
      const want = peftLogProbs();
      want.forEach((lp, t) => expect(Math.abs(logProbs[t] - lp), `position ${t}`).toBeLessThanOrEqual(tolerance));
      // Without LoRA the same rows differ: the comparison above is about the adapter.
      const base = await train.forwardLogProbs({ lora: false });
      expect(Math.max(...want.map((lp, t) => Math.abs(base[t] - lp)))).toBeGreaterThan(10 * tolerance);
    } finally {
      train.destroy();
      adapter.destroy();
      engine.destroy();
    }
  });
});
