import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

describe('Chromium: WebGPU inside the engine worker of the built app', () => {
  let browser: Browser;
  let server: StaticServer;
  beforeAll(async () => {
    server = await startStaticServer({ root: TEST_DIST_DIR });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('gets a GPUDevice in the dedicated worker and runs a compute self-test there', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + '/');
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('selftest').textContent()).toMatch(/^passed: 257 elements computed correctly/);
    expect(await page.getByTestId('f16').textContent()).toMatch(/f32 path|f16 path/);
    // The main thread itself never requested a device: all GPU work is in the worker.
    expect(errors).toEqual([]);
    await page.close();
  });
});
