// The Train tab against a fake TrainingClient (in a test-only page, never in the app), and the
// charts driven by synthetic metrics: Start is enabled only when the client is available, metrics
// stream into the progress bar and charts, samples are listed, and controls reach the client.
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
const client = {
  availability: async () => ({ available: true }),
  start(config, onMetrics, onSample) {
    calls.push({ start: config });
    emit = { onMetrics, onSample };
    let finish;
    return { pause: () => calls.push('pause'), resume: () => calls.push('resume'), stop: () => { calls.push('stop'); finish({ stoppedAtStep: 2, checkpointIds: [] }); }, done: new Promise((r) => (finish = r)) };
  },
};
window.trainTest = { calls, emit: (kind, value) => emit[kind](value) };
render(() => <TrainPanel client={client} />, document.getElementById('root'));
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
    await build({ root: ROOT, configFile: false, logLevel: 'warn', plugins: [solid()], build: { outDir: join(ROOT, 'dist'), emptyOutDir: true, target: 'es2022' } });
    server = await startStaticServer({ root: join(ROOT, 'dist') });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url + '/');
  });
  afterAll(async () => { await browser?.close(); await server?.close(); });

  it('starts with the form config, streams metrics into charts and progress, and forwards controls', async () => {
    const start = page.getByTestId('train-start');
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-start"]') as HTMLButtonElement).disabled);
    expect(await page.getByTestId('trainer-missing').count()).toBe(0);
    await page.locator('#cfg-groupSize').fill('1');
    await page.locator('#cfg-groupSize').dispatchEvent('change');
    expect(await start.isDisabled()).toBe(true); // invalid config: G must be ≥ 2
    expect(await page.getByRole('alert').textContent()).toContain('groupSize');
    await page.locator('#cfg-groupSize').fill('6');
    await page.locator('#cfg-groupSize').dispatchEvent('change');
    await start.click();
    const calls = () => page.evaluate(() => (window as any).trainTest.calls);
    expect((await calls())[0].start.groupSize).toBe(6);

    for (let step = 1; step <= 3; step++) {
      await page.evaluate((s) => (window as any).trainTest.emit('onMetrics', {
        step: s, totalSteps: 10, elapsedSeconds: s * 2, meanReward: s / 10, kl: 0.01 * s, gradNorm: 1 / s,
        perCell: { 'MU-BT': { refusal: s / 4, verification: 0, attackSuccess: 1 - s / 4, completion: 0 }, ...(s > 1 ? { 'SU-ST': { refusal: 0, verification: s / 5, attackSuccess: 0, completion: 0.5 } } : {}) },
      }), step);
    }
    await page.evaluate(() => (window as any).trainTest.emit('onSample', { step: 3, scenarioId: 'test-MU-BT-1', cell: 'MU-BT', reward: 0.6, advantage: 0.4, text: '<img src=x onerror="window.__pwned=1">I cannot help.' }));
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

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Stop' }).click();
    expect((await calls()).slice(1)).toEqual(['pause', 'resume', 'stop']);
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-start"]') as HTMLButtonElement).disabled);
  });
});
