// The benchmark page (bench.html) in headless Chromium, reached from the Model tab's link: its
// worker runs the same measuring core as `npm run bench` on the tiny shape, and the page shows
// progress, the report as JSON text, and copies it. Bad settings are refused before any GPU work;
// a device lost mid-run (the GPU process crashed through the DevTools protocol) ends the run clearly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { pageErrors, screenshot, startApp, type AppFixture } from './app-fixture';
import type { BenchReport } from '../../src/engine/bench/run-bench';

describe('bench page', () => {
  let app: AppFixture;
  let bench: Page;
  const benchErrors: string[] = [];
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("is linked from the Model tab's WebGPU panel and opens in a new tab", async () => {
    const page = await app.open();
    const link = page.getByTestId('bench-link');
    await link.waitFor({ timeout: 150_000 }); // shown once the worker has reported its adapter
    expect(await link.textContent()).toBe('Benchmark this GPU');
    const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    bench = popup;
    bench.on('pageerror', (e) => benchErrors.push(e.message));
    bench.on('console', (m) => {
      if (m.type() === 'error') benchErrors.push(`console: ${m.text()}`);
    });
    await bench.waitForLoadState();
    expect(new URL(bench.url()).pathname).toBe('/bench.html');
    await bench.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.server.url });
    expect(pageErrors(page)).toEqual([]);
  }, 240_000);

  it('refuses bad settings with a message naming the field, without running', async () => {
    await expect.poll(() => bench.getByTestId('bench-adapter').textContent(), { timeout: 60_000 }).toMatch(/^Adapter: /);
    await bench.locator('#bench-decode').fill('1');
    await bench.locator('#bench-batches').fill('1,x');
    await bench.getByRole('button', { name: 'Run benchmark' }).click();
    const alert = await bench.getByRole('alert').textContent();
    expect(alert).toContain('decode tokens must be an integer ≥ 2, got 1');
    expect(alert).toContain('batches must be positive integers');
    expect(await bench.getByTestId('bench-progress').textContent()).toBe('');
    expect(await bench.getByTestId('bench-result').textContent()).toBe('');
  });

  it('runs the tiny shape in its worker and shows a sane report as JSON text, which it copies', async () => {
    await bench.locator('#bench-shape').selectOption('tiny');
    await bench.locator('#bench-quant').selectOption('q4');
    await bench.locator('#bench-batches').fill('1, 2');
    await bench.locator('#bench-prompt').fill('4');
    await bench.locator('#bench-decode').fill('3');
    await bench.locator('#bench-bandwidth').fill('100');
    await bench.getByRole('button', { name: 'Run benchmark' }).click();
    const problem = bench.locator('#bench-problem');
    expect(await problem.isHidden()).toBe(true);
    expect(await bench.getByRole('button', { name: 'Run benchmark' }).isDisabled()).toBe(true);
    await expect.poll(() => bench.getByTestId('bench-progress').textContent(), { timeout: 280_000, interval: 500 }).toMatch(/^(Done\.|Failed\.)$/);
    expect(await problem.isHidden(), (await problem.textContent()) ?? '').toBe(true);
    await screenshot(bench, 'bench-page');

    const text = (await bench.getByTestId('bench-result').textContent())!;
    const report = JSON.parse(text) as BenchReport;
    expect(report).toMatchObject({ shape: 'tiny', quant: 'q4', weights: 'random (exact model shapes)', layers: 4, prompt_tokens: 4, decode_tokens: 3 });
    expect(report.adapter.length).toBeGreaterThan(0);
    expect(typeof report.software_adapter).toBe('boolean');
    expect(report.load_seconds).toBeGreaterThan(0);
    expect(report.weight_bytes_read_per_token).toBeGreaterThan(0);
    const memory = report.gpu_memory_bytes;
    expect(memory.weights).toBeGreaterThanOrEqual(report.weight_bytes_read_per_token);
    expect(memory.kv_cache).toBeGreaterThan(0);
    expect(memory.total).toBe(memory.weights + memory.kv_cache + memory.activations + memory.other);
    expect(report.runs.map((r) => r.batch)).toEqual([1, 2]);
    for (const run of report.runs) {
      for (const speed of [run.prefill_tokens_per_s, run.decode_tokens_per_s, run.decode_ms_per_step]) {
        expect(Number.isFinite(speed) && speed > 0).toBe(true);
      }
      expect(run.submits_per_decode_step).toBe(1); // counted at the queue, not assumed
      expect(run.submits_per_decoded_token).toBe(1 / run.batch);
      expect(Number.isInteger(run.dispatches_per_decode_step) && run.dispatches_per_decode_step > 0).toBe(true);
      expect(run.prefill_dispatches).toBeGreaterThan(0);
    }
    const [one, two] = report.runs;
    expect(one.effective_weight_gb_per_s).toBeGreaterThan(0);
    expect(one.fraction_of_bandwidth_bound).toBeCloseTo(one.effective_weight_gb_per_s! / 100, 12);
    expect(two.effective_weight_gb_per_s).toBeUndefined();

    await bench.getByRole('button', { name: 'Copy JSON' }).click();
    await expect.poll(() => bench.locator('#bench-copy-status').textContent()).toBe('Copied.');
    expect(await bench.evaluate(() => navigator.clipboard.readText())).toBe(text);
    expect(benchErrors).toEqual([]);
  }, 300_000);

  it('a device lost mid-run ends the run with a message saying so, and the form can run again', async () => {
    await bench.locator('#bench-decode').fill('200');
    await bench.getByRole('button', { name: 'Run benchmark' }).click();
    await expect.poll(() => bench.getByTestId('bench-progress').textContent(), { timeout: 120_000, interval: 200 }).toMatch(/^(Warming up|Measuring)/);
    const cdp = await app.browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess'); // every WebGPU device in the browser is lost
    await expect.poll(() => bench.getByTestId('bench-progress').textContent(), { timeout: 60_000 }).toBe('Failed.');
    expect(await bench.locator('#bench-problem').textContent()).toMatch(/^the GPU device was lost \(.+\)$/);
    expect(await bench.getByRole('button', { name: 'Run benchmark' }).isEnabled()).toBe(true);
    expect(await bench.getByTestId('bench-result').textContent()).toBe('');

    // Each run gets a fresh device, so the next one works after the GPU process restarted.
    await bench.locator('#bench-decode').fill('3');
    await bench.getByRole('button', { name: 'Run benchmark' }).click();
    await expect.poll(() => bench.getByTestId('bench-progress').textContent(), { timeout: 200_000, interval: 500 }).toMatch(/^(Done\.|Failed\.)$/);
    expect(await bench.locator('#bench-problem').isHidden()).toBe(true);
    const report = JSON.parse((await bench.getByTestId('bench-result').textContent())!) as BenchReport;
    expect(report.runs.map((r) => r.submits_per_decode_step)).toEqual([1, 1]);
    expect(benchErrors).toEqual([]);
  }, 300_000);
});
