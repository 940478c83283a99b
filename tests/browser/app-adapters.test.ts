// PEFT adapters in the built app (Chromium, WebGPU on SwiftShader, real IndexedDB): a malformed
// import is named and stores nothing; a folder import lands in the Checkpoints list; in the
// Attack Lab one column runs the tiny model with that adapter and the other the base model, and
// an adapter of another shape is not offered.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loraPeftFiles, TINY_QWEN3_SHAPE } from '../helpers/lora-files';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

describe('app: PEFT adapters in Checkpoints and the Attack Lab', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it(
    'imports an adapter, refuses a malformed one, and runs it beside the base model',
    async () => {
      const fits = loraPeftFiles(TINY_QWEN3_SHAPE, { rank: 2, bScale: 3, seed: 9 }, 'builtin/tiny-qwen3');
      const wide = loraPeftFiles({ ...TINY_QWEN3_SHAPE, hiddenSize: 48 }, { rank: 2, bScale: 1 }, 'Qwen/Qwen3-0.6B');
      const folder = join(mkdtempSync(join(tmpdir(), 'peft-e2e-')), 'tiny-lora');
      mkdirSync(folder);
      writeFileSync(join(folder, 'adapter_config.json'), fits['adapter_config.json']);
      writeFileSync(join(folder, 'adapter_model.safetensors'), fits['adapter_model.safetensors']);

      const page = await app.open();
      await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
      await openTab(page, 'Checkpoints');
      const panel = page.getByTestId('checkpoints');
      await panel.getByTestId('storage').waitFor();
      expect(await panel.getByTestId('storage').textContent()).toMatch(/^0 checkpoint\(s\)/);

      // Malformed: the config is not JSON. The error names the file and nothing is stored.
      await page.getByLabel('or adapter_config.json + adapter_model.safetensors').setInputFiles([
        { name: 'adapter_config.json', mimeType: 'application/json', buffer: Buffer.from('{"r": 2, "lora_alpha": ') },
        { name: 'adapter_model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(fits['adapter_model.safetensors']) },
      ]);
      await page.getByTestId('peft-import-error').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('peft-import-error').textContent()).toMatch(/^Import failed, nothing was stored: adapter_config\.json: not valid JSON/);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await expect.poll(() => panel.getByTestId('storage').textContent()).toMatch(/^0 checkpoint\(s\)/);
      await screenshot(page, 'app-adapters-import-error');

      // The folder picker (keyboard reachable, labelled), then two loose files of another shape.
      await page.getByLabel('Its folder').focus();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('peft-folder');
      await page.getByLabel('Its folder').setInputFiles(folder);
      await page.getByTestId('peft-import-done').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('peft-import-error').count()).toBe(0);
      await page.getByLabel('or adapter_config.json + adapter_model.safetensors').setInputFiles([
        { name: 'adapter_config.json', mimeType: 'application/json', buffer: Buffer.from(wide['adapter_config.json']) },
        { name: 'adapter_model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(wide['adapter_model.safetensors']) },
      ]);
      const rows = panel.locator('[data-testid="stored-checkpoints"] tbody tr');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
      const row = rows.filter({ hasText: 'tiny-lora' });
      expect(await row.locator('td').nth(1).textContent()).toBe('0');
      expect(await row.locator('td').nth(2).textContent()).toBe('builtin/tiny-qwen3@unspecified');
      expect(await rows.filter({ hasText: 'adapter_model' }).locator('td').nth(2).textContent()).toBe('Qwen/Qwen3-0.6B@unspecified');
      await screenshot(page, 'app-adapters-imported');

      // Load the tiny model (same shapes as tiny-lora), small turns.
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
      await page.getByTestId('verifier-select').selectOption('scenario');
      const left = page.getByTestId('column-left'),
        right = page.getByTestId('column-right');
      const leftSelect = left.getByRole('combobox', { name: 'Policy for Left' });
      await expect.poll(() => leftSelect.locator('option', { hasText: 'tiny-lora' }).count(), { timeout: 30_000 }).toBe(1);
      // Only the adapter that fits is offered; the other is listed with the reason.
      expect(await leftSelect.locator('option', { hasText: 'adapter_model' }).count()).toBe(0);
      expect(await left.getByTestId('adapters-not-fitting').textContent()).toMatch(
        /1 stored checkpoint\(s\) do not fit.*adapter_model: tensor .* has shape \[2, 48\], the loaded model needs \[2, 32\]/,
      );
      const option = await leftSelect.locator('option', { hasText: 'tiny-lora' }).getAttribute('value');
      await leftSelect.selectOption(option!);
      expect(await left.getByTestId('adapter-note').textContent()).toContain('Imported adapter for builtin/tiny-qwen3');
      await right.getByRole('combobox', { name: 'Policy for Right' }).selectOption('model');
      await page.getByTestId('run-both').click();
      await left.getByTestId('episode-result').waitFor({ timeout: 150_000 });
      await right.getByTestId('episode-result').waitFor({ timeout: 150_000 });
      expect(await left.getByTestId('episode-error').count()).toBe(0);
      expect(await right.getByTestId('episode-error').count()).toBe(0);
      expect(await left.getByTestId('ran-with').textContent()).toContain('Ran the model with adapter "tiny-lora"');
      expect(await right.getByTestId('ran-with').textContent()).toContain('Ran the base model');
      expect(await left.getByTestId('raw-text').count()).toBe(1);
      expect(await right.getByTestId('raw-text').count()).toBe(1);
      await screenshot(page, 'app-adapters-lab-side-by-side');

      // Evaluate and Demo offer the same adapters through the same mechanism.
      await openTab(page, 'Evaluate');
      const evalSelect = page.getByTestId('eval-policy');
      await expect.poll(() => evalSelect.locator('option', { hasText: 'tiny-lora' }).count(), { timeout: 30_000 }).toBe(1);
      expect(await evalSelect.locator('option', { hasText: 'adapter_model' }).count()).toBe(0);
      await page.getByTestId('open-demo').click();
      const demoLeft = page.getByRole('combobox', { name: 'Left policy' });
      await expect.poll(() => demoLeft.locator('option', { hasText: 'model + tiny-lora' }).count(), { timeout: 30_000 }).toBe(1);
      await page.keyboard.press('Escape');
      expect(pageErrors(page)).toEqual([]);
      await page.close();
      // A model load and two model episodes on SwiftShader: 92 s alone, over the 120 s default when
      // another browser test file runs beside it.
    },
    5 * 60_000,
  );
});
