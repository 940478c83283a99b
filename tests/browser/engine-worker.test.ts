// The real, built engine worker in headless Chromium (WebGPU on SwiftShader): load the built-in
// tiny model through the typed message API and generate text, with streaming events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { builtEngineWorkerPath, launchBrowser, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

describe('engine worker in Chromium', () => {
  let browser: Browser;
  let server: StaticServer;
  let page: Page;
  let workerUrl: string;
  beforeAll(async () => {
    server = await startStaticServer({ root: TEST_DIST_DIR });
    browser = await launchBrowser();
    workerUrl = builtEngineWorkerPath();
    page = await browser.newPage();
    await page.goto(server.url + '/');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the tiny model and generates streamed text, reporting memory', async () => {
    const outcome = await page.evaluate(async (url) => {
      const worker = new Worker(url, { type: 'module' });
      const events: { id: number; event: { kind: string } }[] = [];
      const call = (message: Record<string, unknown>) =>
        new Promise<{ type: string; value?: any; error?: any }>((resolve) => {
          const listener = (e: MessageEvent) => {
            if (e.data.id !== message.id) return;
            if (e.data.type === 'event') {
              events.push(e.data);
              return;
            }
            worker.removeEventListener('message', listener);
            resolve(e.data);
          };
          worker.addEventListener('message', listener);
          worker.postMessage(message);
        });
      const load = await call({ id: 1, type: 'load', model: { kind: 'tiny', arch: 'qwen3' }, quant: 'q8', maxContext: 64, maxBatch: 1 });
      const generated = await call({
        id: 2,
        type: 'generate',
        conversations: [{ messages: [{ role: 'user', content: 'Say hi' }] }],
        maxNewTokens: 4,
        sampling: { temperature: 1, seed: 5 },
      });
      const memory = await call({ id: 3, type: 'memory' });
      const tooLong = await call({ id: 4, type: 'generate', promptIds: [new Array(70).fill(9)], maxNewTokens: 1, sampling: { greedy: true } });
      const after = await call({ id: 5, type: 'generate', promptIds: [[9, 10]], maxNewTokens: 2, sampling: { greedy: true } });
      worker.terminate();
      return { load, generated, memory, tooLong, after, events: events.map((e) => ({ id: e.id, kind: e.event.kind })) };
    }, workerUrl);
    expect(outcome.load.type).toBe('result');
    expect(outcome.load.value.family).toBe('qwen3');
    expect(outcome.load.value.label).toMatch(/random weights/);
    expect(outcome.events.some((e) => e.id === 1 && e.kind === 'upload')).toBe(true);
    expect(outcome.generated.type).toBe('result');
    const seq = outcome.generated.value.sequences[0];
    expect(seq.ids.length).toBeGreaterThan(0);
    expect(typeof seq.text).toBe('string');
    expect(outcome.events.filter((e) => e.id === 2 && e.kind === 'token')).toHaveLength(seq.ids.length);
    expect(outcome.memory.value.weights).toBeGreaterThan(0);
    expect(outcome.tooLong).toEqual({ id: 4, type: 'error', error: { code: 'context-overflow', message: expect.stringContaining('context holds 64') } });
    expect(outcome.after.type).toBe('result');
    expect(outcome.after.value.sequences[0].ids).toHaveLength(2);
  });
});
