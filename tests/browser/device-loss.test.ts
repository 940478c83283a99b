// A real device loss in Chromium: the GPU process is crashed through the DevTools protocol
// (Browser.crashGpuProcess), so every WebGPU device in the browser is lost, with no test hook in
// the app. The engine worker reports 'device-lost', refuses the next generate with a clear error,
// and loads and generates again on a fresh device; the app shows the loss to the user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { builtEngineWorkerPath } from '../helpers/browser';
import { startApp, type AppFixture } from './app-fixture';

interface Reply {
  id: number;
  type: string;
  value?: any;
  error?: { code: string; message: string };
}

describe('Chromium: GPU device loss', () => {
  let app: AppFixture;
  let page: Page;
  beforeAll(async () => {
    app = await startApp();
    page = await app.open();
    await page.getByTestId('selftest').waitFor({ timeout: 150_000 }); // the app's worker holds a device now
    // A second engine worker driven by raw messages, to see exactly what the worker answers.
    await page.evaluate((url) => {
      const w = new Worker(url, { type: 'module' });
      const lost: unknown[] = [];
      w.addEventListener('message', (e) => {
        if (e.data.type === 'event' && e.data.event.kind === 'device-lost') lost.push(e.data.event);
      });
      const call = (message: { id: number }) =>
        new Promise((resolve) => {
          const listener = (e: MessageEvent) => {
            if (e.data.id !== message.id || e.data.type === 'event') return;
            w.removeEventListener('message', listener);
            resolve(e.data);
          };
          w.addEventListener('message', listener);
          w.postMessage(message);
        });
      Object.assign(window, { engineTest: { call, lost } });
    }, builtEngineWorkerPath());
  }, 300_000);
  afterAll(async () => {
    await app?.close();
  });

  const call = (message: Record<string, unknown>) =>
    page.evaluate((m) => (window as unknown as { engineTest: { call: (m: unknown) => Promise<Reply> } }).engineTest.call(m), message);
  const lostEvents = () =>
    page.evaluate(() => (window as unknown as { engineTest: { lost: { kind: string; reason: string; message: string }[] } }).engineTest.lost);
  const load = { type: 'load', model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q8', maxContext: 32, maxBatch: 1 };
  const generate = { type: 'generate', promptIds: [[1, 2]], maxNewTokens: 2, sampling: { greedy: true } };

  it('the worker reports the loss, refuses the next generate clearly, then loads and generates again', async () => {
    expect((await call({ id: 1, ...load })).type).toBe('result');
    expect((await call({ id: 2, ...generate })).value.sequences[0].ids).toHaveLength(2);

    const cdp = await app.browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess');
    await expect.poll(lostEvents, { timeout: 30_000 }).toHaveLength(1);
    const [event] = await lostEvents();
    expect(event.kind).toBe('device-lost');
    expect(event.message.length).toBeGreaterThan(0);

    const refused = await call({ id: 3, ...generate });
    expect(refused.type).toBe('error');
    expect(refused.error!.code).toBe('device-lost');
    expect(refused.error!.message).toMatch(/^the GPU device was lost \(.+\), and built-in tiny qwen2 \(random weights\) with it\. Load the model again\.$/);

    const reloaded = await call({ id: 4, ...load });
    expect(reloaded.type, JSON.stringify(reloaded.error)).toBe('result');
    const again = await call({ id: 5, ...generate });
    expect(again.type, JSON.stringify(again.error)).toBe('result');
    expect(again.value.sequences[0].ids).toHaveLength(2);
  }, 300_000);

  it('the app tells the user, as text', async () => {
    const alert = page.getByRole('alert').filter({ hasText: 'The GPU device was lost' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/Load the model again\.$/);
  });
});
