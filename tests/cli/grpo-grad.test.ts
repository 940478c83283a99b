// `cli grpo-grad` against TRL: the loss and every LoRA gradient of the same batch, computed by
// TRL's own GRPOTrainer._compute_loss on the PEFT model (tools/reference/trl_grpo_reference.py,
// fixtures in tests/fixtures/grpo-grad), within 1e-4 relative, on Qwen2 (GQA) and Qwen3.
// Cases: dapo with plain k3 (our trainer's objective), grpo (per-sequence mean, β = 0), dapo with
// TRL 1.x's bias-corrected KL, bnpo with the reference taken from the model with its adapter off.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grpoGradients, parseGrpoBatch } from '../../src/cli/commands/grpo-grad';
import { GpuContext } from '../../src/engine/gpu/context';
import { QwenEngine } from '../../src/engine/engine';
import { nodeFileSource } from '../../src/hf-io/node-sources';
import { importPeftAdapter, readPeftTensors } from '../../src/peft/import';
import type { LoraTarget } from '../../src/engine/ops/lora-targets';
import { fixtureDir, loadFixtureModel } from '../helpers/fixture-models';
import { getTestDevice } from '../helpers/gpu';

const DIR = join(process.cwd(), 'tests/fixtures/grpo-grad');
interface Case {
  model: string;
  batch: string;
  grads: string;
  loss: number;
  loss_type: string;
  kl_bias_correction: boolean;
}
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { cases: Case[] };

async function compareGrads(got: Map<string, { shape: number[]; values: Float32Array }>, c: Case) {
  const want = await readPeftTensors(await nodeFileSource(join(DIR, c.grads)));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  expect(want.size).toBe(28); // 7 modules × A and B × 2 layers
  for (const [name, w] of want) {
    const g = got.get(name)!;
    expect(g.shape).toEqual(w.shape);
    let diff = 0,
      scale = 0;
    w.values.forEach((v, i) => {
      diff = Math.max(diff, Math.abs(g.values[i] - v));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(scale, `${c.batch} ${name}: reference gradient is zero`).toBeGreaterThan(0);
    expect(diff / scale, `${c.batch} ${name}`).toBeLessThanOrEqual(1e-4);
  }
}

describe('grpo-grad equals TRL', () => {
  it('covers both architectures, three loss types and both KL estimators', () => {
    expect(new Set(index.cases.map((c) => c.model))).toEqual(new Set(['qwen2-tiny-gqa', 'qwen3-tiny']));
    expect(new Set(index.cases.map((c) => c.loss_type))).toEqual(new Set(['dapo', 'grpo', 'bnpo']));
    expect(new Set(index.cases.map((c) => c.kl_bias_correction))).toEqual(new Set([true, false]));
  });

  it.each(index.cases.slice(1))('$batch: loss and every gradient within 1e-4 relative', async (c) => {
    const model = await loadFixtureModel(c.model);
    const batch = parseGrpoBatch(JSON.parse(readFileSync(join(DIR, c.batch), 'utf8')), model.config.vocabSize);
    const loraDir = join(fixtureDir(c.model), 'lora');
    const { config, tensors } = await importPeftAdapter({
      config: readFileSync(join(loraDir, 'adapter_config.json')),
      weights: await nodeFileSource(join(loraDir, 'adapter_model.safetensors')),
    });
    const engine = await QwenEngine.create(new GpuContext((await getTestDevice()).device), model.config, model.checkpoint, {
      format: 'f32',
      maxContext: 32,
      maxBatch: 1,
    });
    try {
      const { loss, grads } = await grpoGradients(engine, { rank: config.rank, alpha: config.alpha, targets: config.targets as LoraTarget[] }, tensors, batch);
      expect(Math.abs(loss - c.loss) / Math.abs(c.loss)).toBeLessThanOrEqual(1e-4);
      await compareGrads(grads, c);
    } finally {
      engine.destroy();
    }
  });

  it('the CLI prints the loss and writes PEFT-named gradients (first case), and names a bad batch', async () => {
    const c = index.cases[0];
    const tmp = mkdtempSync(join(tmpdir(), 'asp-grpo-grad-'));
    const out = join(tmp, 'grads.safetensors');
    const args = ['--model', fixtureDir(c.model), '--adapter', join(fixtureDir(c.model), 'lora')];
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'grpo-grad', ...args, ...extra], { encoding: 'utf8', timeout: 300_000 });
    const r = run('--batch', join(DIR, c.batch), '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(printed).toMatchObject({ loss_type: 'dapo', kl_bias_correction: false, samples: 4 });
    expect(Math.abs(printed.loss - c.loss) / Math.abs(c.loss)).toBeLessThanOrEqual(1e-4);
    await compareGrads(await readPeftTensors(await nodeFileSource(out)), c);
    const bad = JSON.parse(readFileSync(join(DIR, c.batch), 'utf8'));
    bad.old_logprobs[1] = bad.old_logprobs[1].slice(1);
    writeFileSync(join(tmp, 'bad.json'), JSON.stringify(bad));
    const b = run('--batch', join(tmp, 'bad.json'), '--out', out);
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toBe(`error: --batch: old_logprobs[1] must hold ${bad.completion_ids[1].length} finite numbers (one per completion token)`);
  });
});
