// The Model tab with the built-in tiny model on WebGPU (SwiftShader): load with upload progress,
// then the Attack Lab's model policy streams a few tokens per turn through the worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

describe('app: model', () => {
  let app: AppFixture;
  beforeAll(async () => { app = await startApp(); });
  afterAll(async () => { await app?.close(); });

  it('loads the tiny model and runs the model policy in the Attack Lab', async () => {
    const page = await app.open();
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await page.getByTestId('model-select').selectOption('tiny-qwen3-random');
    expect(await page.getByTestId('memory-estimate').textContent()).toContain('Weights');
    // f16 is only offered with shader-f16 (SwiftShader has none).
    const f16 = await page.getByTestId('f16').textContent();
    expect(await page.locator('[data-testid="quant-select"] option[value="f16"]').isDisabled()).toBe(!f16?.startsWith('yes'));
    await page.getByTestId('quant-select').selectOption('q8');
    await page.locator('#context').fill('2048');
    await page.locator('#context').dispatchEvent('change');
    await page.getByTestId('load-model').click();
    await page.getByTestId('model-loaded').waitFor({ timeout: 90_000 });
    expect(await page.getByTestId('model-loaded').textContent()).toMatch(/random weights/);
    expect(await page.getByTestId('upload-progress').textContent()).toMatch(/tensors/);
    expect(await page.getByTestId('model-chip').textContent()).toContain('random weights');
    await page.getByTestId('max-new-tokens').fill('4');
    await page.getByTestId('max-new-tokens').dispatchEvent('change');
    await screenshot(page, 'app-model-loaded');

    await openTab(page, 'Attack Lab');
    await page.locator('#max-turns').fill('1');
    await page.locator('#max-turns').dispatchEvent('change');
    const left = page.getByTestId('column-left');
    await left.getByTestId('policy-select').selectOption('model');
    await page.getByTestId('verifier-select').selectOption('scenario');
    await left.getByTestId('run').click();
    await left.getByTestId('episode-result').waitFor({ timeout: 100_000 });
    expect(await left.getByTestId('turn').count()).toBe(1);
    expect(await left.getByTestId('episode-error').count()).toBe(0);
    // Random weights rarely stop on their own within 4 tokens; the turn is judged either way.
    expect(await left.getByTestId('raw-text').count()).toBe(1);
    expect(await left.getByTestId('reward-total').textContent()).toMatch(/^\d\.\d\d$/);
    await screenshot(page, 'app-model-policy');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });
});
