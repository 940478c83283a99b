// GRPO training from the built app, end to end: Chromium, the real engine worker on WebGPU
// (SwiftShader), the built-in tiny model and real sandbox scenarios, checkpoints in IndexedDB.
// A tiny run (G = 2, 2 steps, rank 2, 3 new tokens per turn, one cell) is configured and started in
// the Train tab; while a step runs, tab clicks are answered (click to DOM update measured in the
// page); both steps chart and checkpoint; the Checkpoints tab lists them, again after a reload;
// then the run is resumed from step 2 for one more step, its history leading the charts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CELLS } from '../../src/sandbox/index';
import { openTab, pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';

// SwiftShader on a loaded 2-core machine: a step with 600–1300-token prompts takes 1–2 minutes.
const STEP_TIMEOUT = 6 * 60_000;

async function setNumber(page: Page, selector: string, value: number | string) {
  await page.locator(selector).fill(String(value));
  await page.locator(selector).dispatchEvent('change');
}

async function loadTinyModel(page: Page) {
  await openTab(page, 'Model');
  await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
  await page.getByTestId('model-select').selectOption('tiny-qwen3-random');
  await page.getByTestId('quant-select').selectOption('q4');
  // Sandbox prompts are 600–1300 tokens with the tool schemas and grow by a turn each.
  await setNumber(page, '#context', 2048);
  await page.getByTestId('load-model').click();
  await page.getByTestId('model-loaded').waitFor({ timeout: 120_000 });
  expect(await page.getByTestId('model-loaded').textContent()).toMatch(/q4 · context 2048/);
}

/** A run small enough for SwiftShader: one cell, G = 2, 3 tokens per turn. */
async function configureTinyRun(page: Page, steps: number) {
  await openTab(page, 'Train');
  for (const cell of CELLS) {
    const input = page.getByLabel(cell, { exact: true });
    await input.fill(cell === 'MU-BT' ? '1' : '0');
    await input.dispatchEvent('change');
  }
  await setNumber(page, '#cfg-groupSize', 2);
  await setNumber(page, '#cfg-learningRate', 0.001);
  await setNumber(page, '#cfg-steps', steps);
  if (await page.locator('#cfg-loraRank').isEnabled()) await setNumber(page, '#cfg-loraRank', 2);
  await setNumber(page, '#cfg-seed', 3);
  await setNumber(page, '#cfg-checkpointEvery', 1);
  await setNumber(page, '#cfg-maxNewTokens', 3);
}

/**
 * Clicks a tab and measures, in the page, the time from the click event to the DOM update (its
 * panel shown) and to the next animation frame after it.
 */
async function timeTabClick(page: Page, tab: string, panelId: string): Promise<{ domMs: number; frameMs: number }> {
  await page.evaluate((id) => {
    const panel = document.getElementById(`panel-${id}`)!;
    (window as unknown as { tabLatency: Promise<unknown> }).tabLatency = new Promise((resolve) => {
      let clickAt = NaN;
      document.addEventListener(
        'click',
        (e) => {
          clickAt = e.timeStamp;
        },
        { capture: true, once: true },
      );
      const observer = new MutationObserver(() => {
        if (panel.hidden) return;
        observer.disconnect();
        const domAt = performance.now();
        requestAnimationFrame(() => resolve({ domMs: domAt - clickAt, frameMs: performance.now() - clickAt }));
      });
      observer.observe(panel, { attributes: true, attributeFilter: ['hidden'] });
    });
  }, panelId);
  // A click event straight to the tab, without Playwright's actionability wait: that wait needs two
  // animation frames ("stable"), and frames come from the compositor, which shares Chromium's GPU
  // process with the worker's WebGPU work (on SwiftShader a long training submit holds it for
  // seconds, longer on a busy machine). What this test asserts is the main thread's answer to the
  // click (domMs below), which the event's own timestamp measures either way.
  await page.getByRole('tab', { name: tab, exact: true }).dispatchEvent('click');
  return page.evaluate(() => (window as unknown as { tabLatency: Promise<{ domMs: number; frameMs: number }> }).tabLatency);
}

/** Tab round trips while a step is running; every click's DOM update well under a second. */
async function expectResponsiveDuring(page: Page, step: number, totalSteps: number) {
  const running = `Training: step ${step} of ${totalSteps} in progress`;
  const status = page.getByTestId('train-status');
  expect(await status.textContent()).toMatch(new RegExp(`^${running}`));
  const timings: { domMs: number; frameMs: number }[] = [];
  for (const [tab, id] of [
    ['Model', 'model'],
    ['Checkpoints', 'checkpoints'],
    ['Train', 'train'],
  ] as const) {
    timings.push(await timeTabClick(page, tab, id));
  }
  // The same step is still running: the clicks were answered during it, not between steps.
  expect(await status.textContent()).toMatch(new RegExp(`^${running}`));
  console.log(`tab clicks during step ${step}: ${timings.map((t) => `DOM ${t.domMs.toFixed(1)} ms, frame ${t.frameMs.toFixed(1)} ms`).join('; ')}`);
  for (const t of timings) {
    expect(t.domMs).toBeGreaterThanOrEqual(0);
    expect(t.domMs).toBeLessThan(500);
    // The next frame is logged, not asserted: it waits for the compositor, which shares Chromium's
    // GPU process with the worker's WebGPU work; on SwiftShader one long submit held it 7.4 s once
    // (usually 7–400 ms). The main thread itself answered every click within milliseconds.
    expect(t.frameMs).toBeGreaterThanOrEqual(t.domMs);
  }
}

async function checkpointRows(page: Page) {
  await openTab(page, 'Checkpoints');
  const panel = page.getByTestId('checkpoints');
  await panel.getByTestId('storage').waitFor();
  return panel.locator('[data-testid="stored-checkpoints"] tbody tr');
}

describe('app: GRPO training in the worker, from the Train tab', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it(
    'trains 2 steps with checkpoints while the UI stays responsive, keeps them over a reload, and resumes',
    async () => {
      const started = Date.now();
      const lap = (what: string) => console.log(`${what}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
      const page = await app.open();
      await loadTinyModel(page);
      lap('model loaded');

      await configureTinyRun(page, 2);
      const start = page.getByTestId('train-start');
      await page.waitForFunction(() => !(document.querySelector('[data-testid="train-start"]') as HTMLButtonElement).disabled, undefined, { timeout: 30_000 });
      expect(await page.getByTestId('train-config-errors').count()).toBe(0);
      expect(await page.getByLabel('Resume from').inputValue()).toBe('');
      await start.click();
      await page.getByTestId('train-status').waitFor();
      // The worker reports where the step is: rollout turns and sampled tokens, then micro-batches.
      const phases = new Set<string>();
      const watchPhase = setInterval(
        () =>
          void page
            .getByTestId('train-phase')
            .textContent({ timeout: 200 })
            .then(
              (t) => t && phases.add(t.replace(/\d+ token\(s\)/, 'N token(s)')),
              () => undefined,
            ),
        300,
      );
      await expect
        .poll(
          () =>
            page
              .getByTestId('train-phase')
              .textContent()
              .catch(() => ''),
          { timeout: 120_000 },
        )
        .toMatch(/^Step 1 of 2: rollout turn 1/);
      await expectResponsiveDuring(page, 1, 2);

      const status = page.getByTestId('train-status');
      await expect
        .poll(
          () =>
            page
              .getByTestId('chart-reward')
              .getAttribute('data-points')
              .catch(() => null),
          { timeout: STEP_TIMEOUT, interval: 2000 },
        )
        .toBe('1');
      lap('step 1 done');
      clearInterval(watchPhase);
      console.log(`phases seen in step 1: ${[...phases].join(' | ')}`);
      expect(
        [...phases].some((p) => /forward–backward, micro-batch \d+ of \d+/.test(p) || /optimizer update/.test(p) || /token\(s\) sampled so far/.test(p)),
      ).toBe(true);
      expect(await page.getByText('step 1 / 2').count()).toBe(1);
      await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/^Training: step 2 of 2 in progress · last checkpoint at step 1$/);
      expect(await page.locator('#panel-train .uplot').count()).toBe(7);
      // A sample trajectory of the step, as text.
      expect(await page.locator('#panel-train details').count()).toBeGreaterThan(0);
      await expectResponsiveDuring(page, 2, 2);
      await screenshot(page, 'app-train-e2e-running');

      await expect
        .poll(() => status.textContent(), { timeout: STEP_TIMEOUT, interval: 2000 })
        .toBe('Finished at step 2; 2 checkpoint(s) saved (see the Checkpoints tab).');
      lap('step 2 done');
      // A random tiny model with 3 tokens per turn fails the format in every rollout: every reward in
      // the group is equal, so the tab says the steps had no learning signal and what to change.
      expect(await page.getByTestId('no-signal').textContent()).toContain('no learning signal');
      await screenshot(page, 'app-train-e2e-no-signal');
      expect(await page.getByTestId('train-error').count()).toBe(0);
      expect(await page.getByTestId('chart-reward').getAttribute('data-points')).toBe('2');

      let rows = await checkpointRows(page);
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
      const listed = async () =>
        (await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)))).sort(
          (a, b) => Number(a[1]) - Number(b[1]),
        );
      const expected = [
        [expect.stringMatching(/tiny.* · step 1$/), '1', 'builtin/tiny-qwen3@random-weights'],
        [expect.stringMatching(/tiny.* · step 2$/), '2', 'builtin/tiny-qwen3@random-weights'],
      ];
      expect(await listed()).toEqual(expected);

      // IndexedDB keeps them over a reload (the worker, its model and the page state are gone).
      await page.reload();
      await page.getByRole('tablist').waitFor({ timeout: 60_000 });
      rows = await checkpointRows(page);
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
      expect(await listed()).toEqual(expected);
      await screenshot(page, 'app-train-e2e-checkpoints-after-reload');
      lap('reloaded');

      // Resume from step 2 for one more step: the rank follows the checkpoint, its history leads the charts.
      await loadTinyModel(page);
      await configureTinyRun(page, 2);
      const resume = page.getByLabel('Resume from');
      const option = resume.locator('option', { hasText: /· step 2 \(step 2, rank 2\)$/ });
      await expect.poll(() => option.count(), { timeout: 30_000 }).toBe(1);
      await resume.selectOption((await option.getAttribute('value'))!);
      expect(await page.locator('#cfg-loraRank').isDisabled()).toBe(true);
      expect(await page.locator('#cfg-loraRank').inputValue()).toBe('2');
      expect(await page.getByTestId('train-config-errors').textContent()).toContain("larger than the checkpoint's step 2 (you entered 2)");
      await setNumber(page, '#cfg-steps', 3);
      expect(await page.getByTestId('train-config-errors').count()).toBe(0);
      await start.click();
      await expect
        .poll(
          () =>
            page
              .getByTestId('resumed-history')
              .textContent()
              .catch(() => null),
          { timeout: 60_000 },
        )
        .toBe("Steps 1–2 come from the resumed checkpoint's history.");
      expect(await status.textContent()).toMatch(/^Training: step 3 of 3 in progress/);
      await expect
        .poll(() => status.textContent(), { timeout: STEP_TIMEOUT, interval: 2000 })
        .toBe('Finished at step 3; 1 checkpoint(s) saved (see the Checkpoints tab).');
      lap('resumed step 3 done');
      expect(await page.getByTestId('chart-reward').getAttribute('data-points')).toBe('3');
      await screenshot(page, 'app-train-e2e-resumed');
      rows = await checkpointRows(page);
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
      expect((await listed()).map((r) => r[1])).toEqual(['1', '2', '3']);
      expect(pageErrors(page)).toEqual([]);
      await page.close();
    },
    15 * 60_000,
  );
});
