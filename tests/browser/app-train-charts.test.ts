// The Train tab against a fake TrainingClient (in a test-only page, never in the app), and the
// charts driven by synthetic metrics: Start is enabled only when the client is available, metrics
// stream into the progress bar and charts, samples are listed, and controls reach the client.
// Resuming: only checkpoints trained here that fit are offered (an imported adapter is listed
// disabled, one that does not fit is explained), the rank follows the checkpoint, steps must go
// past its step, and the resumed history leads the charts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import solid from 'vite-plugin-solid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { SCREENSHOT_DIR } from './app-fixture';

const ROOT = join(process.cwd(), '.cache', 'app-train-page');

const ENTRY = `
import { render } from 'solid-js/web';
import { TrainPanel } from '../../src/app/panels/TrainPanel';
import '../../src/app/styles.css';
const calls = [];
let emit;
let finish;
const base = { repo: 'builtin/tiny-qwen3', revision: 'random-weights' };
const client = {
  availability: async () => ({ available: true }),
  listCheckpoints: async () => ({ modelLoaded: true, items: [
    { id: 'ck-trained', name: 'tiny · step 4', step: 4, baseModel: base, fits: true, imported: false, rank: 2 },
    { id: 'ck-imported', name: 'peft-import', step: 0, baseModel: base, fits: true, imported: true, rank: 4 },
    { id: 'ck-other', name: '<b>other</b>', step: 9, baseModel: { repo: 'Qwen/Qwen3-0.6B', revision: 'main' }, fits: false, imported: false, problem: 'it was trained on another base model' },
  ] }),
  start(config, handlers) {
    calls.push({ start: config });
    emit = handlers;
    return { pause: () => calls.push('pause'), resume: () => calls.push('resume'), stop: () => calls.push('stop'), done: new Promise((r) => (finish = r)) };
  },
};
window.trainTest = { calls, emit: (kind, value) => emit[kind](value), finish: (value) => finish(value) };
render(() => <TrainPanel client={client} modelLoaded={() => ({ maxContext: 1024 })} />, document.getElementById('root'));
`;

describe('app: Train tab with a fake trainer', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  beforeAll(async () => {
    mkdirSync(ROOT, { recursive: true });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    writeFileSync(join(ROOT, 'entry.tsx'), ENTRY);
    writeFileSync(join(ROOT, 'index.html'), '<!doctype html><html><body><div id="root"></div><script type="module" src="./entry.tsx"></script></body></html>');
    await build({
      root: ROOT,
      configFile: false,
      logLevel: 'warn',
      plugins: [solid()],
      build: { outDir: join(ROOT, 'dist'), emptyOutDir: true, target: 'es2022' },
    });
    server = await startStaticServer({ root: join(ROOT, 'dist') });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url + '/');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('starts with the form config, streams metrics into charts and progress, and forwards controls', async () => {
    const start = page.getByTestId('train-start');
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-start"]') as HTMLButtonElement).disabled);
    expect(await page.getByTestId('trainer-missing').count()).toBe(0);
    await page.locator('#cfg-groupSize').fill('1');
    await page.locator('#cfg-groupSize').dispatchEvent('change');
    expect(await start.isDisabled()).toBe(true); // invalid config: G must be ≥ 2
    // In the form's words, not the config's field names.
    expect(await page.getByRole('alert').textContent()).toContain('Group size G must be a whole number from 2 to 64 (you entered 1)');
    // Turns must leave room for the prompt in the loaded model's context.
    await page.locator('#cfg-maxNewTokens').fill('1024');
    await page.locator('#cfg-maxNewTokens').dispatchEvent('change');
    expect(await page.getByTestId('train-config-errors').textContent()).toContain(
      "Max new tokens per turn must be smaller than the loaded model's context of 1024 tokens (you entered 1024)",
    );
    await page.locator('#cfg-maxNewTokens').fill('256');
    await page.locator('#cfg-maxNewTokens').dispatchEvent('change');
    await page.locator('#cfg-groupSize').fill('6');
    await page.locator('#cfg-groupSize').dispatchEvent('change');
    await start.click();
    const calls = () => page.evaluate(() => (window as any).trainTest.calls);
    expect((await calls())[0].start.groupSize).toBe(6);

    for (let step = 1; step <= 3; step++) {
      await page.evaluate(
        (s) =>
          (window as any).trainTest.emit('onMetrics', {
            step: s,
            totalSteps: 10,
            elapsedSeconds: s * 2,
            meanReward: s / 10,
            kl: 0.01 * s,
            gradNorm: 1 / s,
            perCell: {
              'MU-BT': { refusal: s / 4, verification: 0, attackSuccess: 1 - s / 4, completion: 0 },
              ...(s > 1 ? { 'SU-ST': { refusal: 0, verification: s / 5, attackSuccess: 0, completion: 0.5 } } : {}),
            },
          }),
        step,
      );
    }
    await page.evaluate(() =>
      (window as any).trainTest.emit('onSample', {
        step: 3,
        scenarioId: 'test-MU-BT-1',
        cell: 'MU-BT',
        reward: 0.6,
        advantage: 0.4,
        text: '<img src=x onerror="window.__pwned=1">I cannot help.',
      }),
    );
    await page.locator('.uplot').first().waitFor();
    expect(await page.locator('.uplot').count()).toBe(7);
    // The per-cell charts gained the SU-ST series when it first appeared.
    const legend = await page.locator('.uplot').nth(2).locator('.u-legend').textContent();
    expect(legend).toContain('MU-BT');
    expect(legend).toContain('SU-ST');
    expect(await page.getByRole('progressbar', { name: 'Training' }).getAttribute('aria-valuenow')).toBe('30');
    expect(await page.getByText('step 3 / 10').count()).toBe(1);
    expect(await page.locator('details pre').first().textContent()).toContain('<img src=x');
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'app-train-fake-trainer.png'), fullPage: true });

    // Axes fit the data: KL (0.01–0.03) is not drawn on 0–100; the step axis spans steps 1–3.
    const range = async (id: string, key: 'x' | 'y') => (await page.getByTestId(id).getAttribute(`data-${key}-range`))!.split(',').map(Number);
    const [klMin, klMax] = await range('chart-kl', 'y');
    expect(klMin).toBeGreaterThanOrEqual(0);
    expect(klMax).toBeLessThan(0.05);
    expect(await range('chart-kl', 'x')).toEqual([1, 3]);

    // Progress inside a step: rollout turn and tokens, micro-batch k of n, optimizer.
    const phase = page.getByTestId('train-phase');
    await page.evaluate(() => (window as any).trainTest.emit('onProgress', { phase: 'rollout', turn: 1, tokens: 0, step: 4, totalSteps: 10 }));
    expect(await phase.textContent()).toBe('Step 4 of 10: rollout turn 1, reading the prompt (prefill)…');
    await page.evaluate(() => (window as any).trainTest.emit('onProgress', { phase: 'rollout', turn: 2, tokens: 17, step: 4, totalSteps: 10 }));
    expect(await phase.textContent()).toBe('Step 4 of 10: rollout turn 2, 17 token(s) sampled so far');
    await page.evaluate(() =>
      (window as any).trainTest.emit('onProgress', { phase: 'forward-backward', epoch: 0, microBatch: 3, microBatches: 6, step: 4, totalSteps: 10 }),
    );
    expect(await phase.textContent()).toBe('Step 4 of 10: forward–backward, micro-batch 3 of 6');
    await page.evaluate(() => (window as any).trainTest.emit('onProgress', { phase: 'optimizer', epoch: 0, step: 4, totalSteps: 10 }));
    expect(await phase.textContent()).toBe('Step 4 of 10: optimizer update');
    // A step where every group's rewards were equal: no learning signal, and what to change.
    expect(await page.getByTestId('no-signal').count()).toBe(0);
    await page.evaluate(() =>
      (window as any).trainTest.emit('onMetrics', {
        step: 4,
        totalSteps: 10,
        elapsedSeconds: 8,
        meanReward: 0,
        kl: 0,
        gradNorm: 0,
        perCell: {},
        rewardStd: 0,
        noSignal: true,
      }),
    );
    const notice = page.getByTestId('no-signal');
    expect(await notice.textContent()).toContain('Step 4 had no learning signal');
    expect(await notice.textContent()).toContain('larger group size');
    expect(await phase.count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'app-train-fake-no-signal.png'), fullPage: true });

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Stop' }).click();
    expect((await calls()).slice(1)).toEqual(['pause', 'resume', 'stop']);
    // Stop is acknowledged at once; the run ends after the current step.
    expect(await page.getByTestId('train-status').textContent()).toMatch(/^Stopping after this step \(step 5 of 200 finishes/);
    expect(await page.getByTestId('train-stop').isDisabled()).toBe(true);
    await page.evaluate(() => (window as any).trainTest.finish({ stoppedAtStep: 5, checkpointIds: [] }));
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-start"]') as HTMLButtonElement).disabled);
  });

  it('resumes only checkpoints trained here: rank follows the checkpoint, steps go past it, history leads the charts', async () => {
    const select = page.getByLabel('Resume from');
    await select.focus();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cfg-resume');
    await expect.poll(() => select.locator('option').count()).toBe(3);
    expect(await select.locator('option').allTextContents()).toEqual([
      'New run (fresh adapter)',
      'tiny · step 4 (step 4, rank 2)',
      'peft-import: imported PEFT adapter, cannot be resumed (no fingerprint of its base model)',
    ]);
    expect(await select.locator('option[value="ck-imported"]').isDisabled()).toBe(true);
    expect(await page.getByTestId('resume-not-fitting').textContent()).toContain('<b>other</b>: it was trained on another base model');
    expect(await page.locator('#cfg-loraRank').isDisabled()).toBe(false);

    // The form's inputs are built once: choosing a checkpoint (or editing a field) never replaces
    // one, so nothing typed into it is lost.
    const stepsInput = await page.locator('#cfg-steps').elementHandle();
    await select.selectOption('ck-trained');
    expect(await stepsInput!.evaluate((el) => el.isConnected)).toBe(true);
    expect(await page.locator('#cfg-loraRank').isDisabled()).toBe(true);
    expect(await page.locator('#cfg-loraRank').inputValue()).toBe('2');
    expect(await page.getByTestId('rank-note').textContent()).toContain('rank follows the checkpoint');
    expect(await page.getByTestId('resume-note').textContent()).toContain('from step 4');
    await page.locator('#cfg-steps').fill('4');
    await page.locator('#cfg-steps').dispatchEvent('change');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    expect(await page.getByTestId('train-config-errors').textContent()).toContain(
      "Steps is the total to reach and must be larger than the checkpoint's step 4 (you entered 4)",
    );
    await page.locator('#cfg-steps').fill('6');
    await page.locator('#cfg-steps').dispatchEvent('change');
    await page.getByTestId('train-start').click();
    const started = (await page.evaluate(() => (window as any).trainTest.calls)).at(-1).start;
    expect(started).toMatchObject({ resumeFrom: 'ck-trained', steps: 6, loraRank: 2 });
    expect(await page.getByTestId('train-status').textContent()).toBe('Training: step 5 of 6 in progress');
    expect(await select.isDisabled()).toBe(true);

    const metric = (s: number) => ({ step: s, totalSteps: 6, elapsedSeconds: s * 3, meanReward: s / 10, kl: 0.01, gradNorm: 1, perCell: {} });
    await page.evaluate((h) => (window as any).trainTest.emit('onHistory', h), [1, 2, 3, 4].map(metric));
    await page.evaluate((m) => (window as any).trainTest.emit('onMetrics', m), metric(5));
    await page.evaluate(() => (window as any).trainTest.emit('onCheckpoint', { id: 'ck-5', step: 5 }));
    expect(await page.getByTestId('resumed-history').textContent()).toBe("Steps 1–4 come from the resumed checkpoint's history.");
    expect(await page.getByText('step 5 / 6').count()).toBe(1);
    expect(await page.getByTestId('train-status').textContent()).toBe('Training: step 6 of 6 in progress · last checkpoint at step 5');
    expect(await page.getByTestId('chart-reward').getAttribute('data-points')).toBe('5');
    await page.evaluate(() => (window as any).trainTest.finish({ stoppedAtStep: 6, checkpointIds: ['ck-5', 'ck-6'] }));
    await expect.poll(() => page.getByTestId('train-status').textContent()).toBe('Finished at step 6; 2 checkpoint(s) saved (see the Checkpoints tab).');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'app-train-fake-resume.png'), fullPage: true });
  });
});
