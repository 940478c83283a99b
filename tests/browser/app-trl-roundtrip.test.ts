// Round trip through TRL (issue 15 item 5): TRL's GRPOTrainer trains a PEFT LoRA on the built-in
// tiny Qwen3 (the same random weights the app builds: writeTinyModel with the registry's options)
// against the environment server; the folder TRL saved is imported in the Checkpoints tab and runs
// in the Attack Lab beside the base model (Chromium, WebGPU on SwiftShader).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../models/make-tiny-model';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { startEnvServer, type EnvServer } from '../../src/server/env-server';
import { ensurePythonEnv, PYTHON } from '../server/python-env';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

const work = mkdtempSync(join(tmpdir(), 'asp-trl-app-'));
const modelDir = join(work, 'tiny-qwen3');
const adapterDir = join(work, 'trl-lora');
let env: EnvServer;
let app: AppFixture;

function trainWithTrl(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      PYTHON,
      [
        'python/examples/train_grpo.py',
        '--model',
        modelDir,
        '--env-url',
        `http://127.0.0.1:${env.port}`,
        '--out',
        adapterDir,
        '--steps',
        '1',
        '--num-generations',
        '2',
        '--prompts-per-step',
        '1',
        '--lr',
        '1e-2',
        '--max-new-tokens',
        '8',
        '--max-context',
        '2048',
        '--lora-r',
        '2',
        '--lora-alpha',
        '4',
        '--lora-init',
        'random',
        '--cpu',
      ],
      { env: { ...process.env, TRL_EXPERIMENTAL_SILENCE: '1', OMP_NUM_THREADS: '2', HF_HUB_OFFLINE: '1' } },
    );
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

beforeAll(async () => {
  ensurePythonEnv();
  // models/registry.json: tiny-qwen3-random = { arch: 'qwen3', vocab: 'real', seed: 1 }.
  await writeTinyModel({ arch: 'qwen3', vocab: 'real', seed: 1 }, modelDir);
  env = await startEnvServer({ scenarios: generateScenarios({ split: 'train', count: 9 }), source: 'builtin:train (9)', limits: { maxTurns: 2 } });
  const r = await trainWithTrl();
  if (r.code !== 0) throw new Error(`TRL training failed:\n${r.out.slice(-4000)}`);
  app = await startApp();
}, 1_800_000);
afterAll(async () => {
  await app?.close();
  await env?.close();
});

describe('app: an adapter trained by TRL', () => {
  it(
    'imports in Checkpoints and runs in the Attack Lab beside the base model',
    async () => {
      const page = await app.open();
      await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
      await openTab(page, 'Checkpoints');
      const panel = page.getByTestId('checkpoints');
      await panel.getByTestId('storage').waitFor();
      // The folder train_grpo.py wrote, as it is (PEFT's files, README.md, our episode log).
      await page.getByLabel('Its folder').setInputFiles(adapterDir);
      await page.locator('[data-testid="peft-import-done"], [data-testid="peft-import-error"]').first().waitFor({ timeout: 120_000 });
      expect(
        await page.getByTestId('peft-import-error').count(),
        (await page
          .getByTestId('peft-import-error')
          .textContent()
          .catch(() => '')) ?? '',
      ).toBe(0);
      const rows = panel.locator('[data-testid="stored-checkpoints"] tbody tr');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
      expect(await rows.first().textContent()).toContain('trl-lora');

      await openTab(page, 'Model');
      await page.getByTestId('model-select').selectOption('tiny-qwen3-random');
      await page.getByTestId('quant-select').selectOption('q8');
      await page.locator('#context').fill('2048');
      await page.locator('#context').dispatchEvent('change');
      await page.getByTestId('load-model').click();
      await page.getByTestId('model-loaded').waitFor({ timeout: 90_000 });
      await page.getByTestId('max-new-tokens').fill('3');
      await page.getByTestId('max-new-tokens').dispatchEvent('change');

      await openTab(page, 'Attack Lab');
      await page.locator('#max-turns').fill('1');
      await page.locator('#max-turns').dispatchEvent('change');
      const left = page.getByTestId('column-left'),
        right = page.getByTestId('column-right');
      const leftSelect = left.getByRole('combobox', { name: 'Policy for Left' });
      await expect.poll(() => leftSelect.locator('option', { hasText: 'trl-lora' }).count(), { timeout: 30_000 }).toBe(1);
      await leftSelect.selectOption((await leftSelect.locator('option', { hasText: 'trl-lora' }).getAttribute('value'))!);
      await right.getByRole('combobox', { name: 'Policy for Right' }).selectOption('model');
      await page.getByTestId('run-both').click();
      await left.getByTestId('episode-result').waitFor({ timeout: 150_000 });
      await right.getByTestId('episode-result').waitFor({ timeout: 150_000 });
      expect(await left.getByTestId('episode-error').count()).toBe(0);
      expect(await right.getByTestId('episode-error').count()).toBe(0);
      expect(await left.getByTestId('ran-with').textContent()).toContain('Ran the model with adapter "trl-lora"');
      expect(await right.getByTestId('ran-with').textContent()).toContain('Ran the base model');
      await screenshot(page, 'app-trl-roundtrip-side-by-side');
      expect(pageErrors(page)).toEqual([]);
      await page.close();
    },
    5 * 60_000,
  );
});
