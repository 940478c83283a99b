// Chromium without the WebGPU flags (headless Linux then has no WebGPU): the app says what to do,
// and the scripted policies still work in the Attack Lab.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { findChromium, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

describe('app: no WebGPU', () => {
  let browser: Browser;
  let server: StaticServer;
  beforeAll(async () => {
    server = await startStaticServer({ root: TEST_DIST_DIR });
    browser = await chromium.launch({
      executablePath: findChromium(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-features=Vulkan,WebGPU', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('explains how to get WebGPU, disables loading, and keeps scripted policies usable', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    await page.getByTestId('no-webgpu').waitFor({ timeout: 60_000 });
    const text = await page.getByTestId('no-webgpu').textContent();
    expect(text).toContain('Chrome or Edge 113');
    expect(text).toContain('hardware acceleration');
    expect(await page.getByTestId('load-model').isDisabled()).toBe(true);
    await page.getByRole('tab', { name: 'Attack Lab' }).click();
    await page.getByTestId('verifier-select').selectOption('scenario');
    await page.getByTestId('column-right').getByTestId('run').click();
    await page.getByTestId('column-right').getByTestId('episode-result').waitFor({ timeout: 30_000 });
    await page.close();
  });
});
