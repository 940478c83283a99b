// The Train tab shows a run's GPU memory before Start, from the training size table
// (training/model/train-plan.ts) for the Model tab's pick (no model loaded): it grows with the
// LoRA rank, and G leaves it alone (rollouts run at the engine's batch, a group trains in packed
// rows of a fixed size). One page load, no model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

describe('app: training memory', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows the training-memory figure before Start; it follows the rank, not G', async () => {
    const page = await app.open();
    await page.getByTestId('model-select').selectOption('qwen2.5-0.5b-instruct');
    await page.getByTestId('quant-select').selectOption('q4');
    await openTab(page, 'Train');
    const figure = page.getByTestId('training-memory');
    await figure.waitFor({ timeout: 30_000 });
    expect(await figure.textContent()).toContain('Qwen2.5');
    expect(await figure.textContent()).toContain('not loaded yet');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true); // before any run
    const total = () => page.getByTestId('training-memory-total').textContent();
    const setField = async (id: string, value: string) => {
      await page.locator(`#${id}`).fill(value);
      await page.locator(`#${id}`).dispatchEvent('change');
    };
    await setField('cfg-loraRank', '8');
    const r8 = await total();
    expect(r8).toMatch(/^[\d.]+ (MiB|GiB)$/);
    await setField('cfg-loraRank', '16');
    const r16 = await total();
    expect(r16).not.toBe(r8);
    expect(await figure.textContent()).toContain('LoRA rank 16');
    await setField('cfg-groupSize', '8');
    expect(await total()).toBe(r16);
    await screenshot(page, 'app-train-memory');
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  }, 180_000);
});
