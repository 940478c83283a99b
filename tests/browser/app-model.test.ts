// The Model tab with the built-in tiny model on WebGPU (SwiftShader): load with upload progress,
// then the Attack Lab's model policy streams a few tokens per turn through the worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

describe('app: model', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('first run: a start-here card says what works without a model and what a download costs; dismissed, it stays closed', async () => {
    const page = await app.open();
    const card = page.getByTestId('start-here');
    expect(await card.textContent()).toContain('No model needed to begin');
    expect(await page.getByTestId('start-download').textContent()).toMatch(/Qwen2\.5 0\.5B Instruct downloads about [\d.]+ MiB once/);
    // The default (hub) model shows its download size before Load is pressed.
    expect(await page.getByTestId('download-size').textContent()).toMatch(/downloads about [\d.]+ MiB once|needs no download/);
    await screenshot(page, 'app-first-run');
    await page.getByTestId('start-lab').click();
    expect(await page.getByRole('tab', { name: 'Attack Lab' }).getAttribute('aria-selected')).toBe('true');
    await page.getByTestId('start-dismiss').click();
    expect(await card.count()).toBe(0);
    await page.reload();
    await page.getByRole('tablist').waitFor();
    expect(await page.getByTestId('start-here').count()).toBe(0);
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  it('loads the tiny model and runs the model policy in the Attack Lab', async () => {
    const page = await app.open();
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await page.getByTestId('model-select').selectOption('tiny-qwen3-random');
    expect(await page.getByTestId('memory-estimate').textContent()).toContain('Weights');
    // Training memory before any run (issue #11 item 4): the GRPO size table at the Train tab's default rank.
    expect(await page.getByTestId('memory-estimate').textContent()).toMatch(/Training \(GRPO, LoRA r8\)/);
    expect(await page.getByTestId('memory-estimate-training').textContent()).toMatch(/^[\d.]+ (KiB|MiB|GiB)$/);
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
    // The app's own change to a setting is announced, not silent.
    expect(await page.getByTestId('settings-notice').textContent()).toContain('Max new tokens per turn changed from 256 to 16');
    expect(await page.getByTestId('max-new-tokens').inputValue()).toBe('16');
    // One memory figure: the engine's, once loaded (the estimate is for before loading).
    expect(await page.getByTestId('memory-estimate').count()).toBe(0);
    expect(await page.getByTestId('loaded-memory').textContent()).toMatch(/total [\d.]+ (KiB|MiB)/);
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
    // Prefill then tokens/s are shown while the model works (not a bare "Running…").
    await expect
      .poll(
        () =>
          left
            .getByTestId('turn-progress')
            .textContent()
            .catch(() => ''),
        { timeout: 60_000 },
      )
      .toMatch(/^Turn 1: (reading the prompt \(prefill\)|\d+ token\(s\) · [\d.]+ tokens\/s)/);
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
