// The quantized-weight cache in the real, built engine worker in headless Chromium: a second
// worker loading the tiny model as q4 reads every weight from CacheStorage instead of quantizing,
// and generates exactly what the first one did.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { WEIGHT_CACHE_NAME } from '../../src/engine/quant/weight-cache';
import { builtEngineWorkerPath, launchBrowser, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

describe('quantized-weight cache in the Chromium engine worker', () => {
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

  it('a reload in a fresh worker uploads from the cache and generates the same tokens and log-probs', async () => {
    const outcome = await page.evaluate(
      async ({ url, cacheName }) => {
        /** One worker's life: load the tiny model as q4, generate greedily, terminate. */
        const run = async () => {
          const worker = new Worker(url, { type: 'module' });
          const fromCache = new Set<string>();
          const call = (message: Record<string, unknown>) =>
            new Promise<{ type: string; value?: any; error?: any }>((resolve) => {
              worker.addEventListener('message', (e: MessageEvent) => {
                if (e.data.id !== message.id) return;
                if (e.data.type === 'event') {
                  if (e.data.event.kind === 'upload') fromCache.add(String(e.data.event.fromCache));
                  return;
                }
                resolve(e.data);
              });
              worker.postMessage(message);
            });
          const load = await call({ id: 1, type: 'load', model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q4', maxContext: 32, maxBatch: 1 });
          const generated = await call({ id: 2, type: 'generate', promptIds: [[9, 10, 11]], maxNewTokens: 3, sampling: { greedy: true } });
          worker.terminate();
          return { load: load.type, error: load.error ?? generated.error, fromCache: [...fromCache].sort(), sequence: generated.value?.sequences[0] };
        };
        const first = await run();
        const entries = (await (await caches.open(cacheName)).keys()).map((r) => r.url);
        const second = await run();
        return { first, second, entries };
      },
      { url: workerUrl, cacheName: WEIGHT_CACHE_NAME },
    );

    expect(outcome.first.error).toBeUndefined();
    expect(outcome.first.fromCache).toEqual(['false', 'undefined']); // quantized now; norms carry no flag
    expect(outcome.second.fromCache).toEqual(['true', 'undefined']);
    // Tied tiny Qwen2, 2 layers: the embedding and 4 fused matrices per layer.
    expect(outcome.entries).toHaveLength(1 + 2 * 4);
    expect(outcome.entries.every((u) => u.includes('/q4/'))).toBe(true);
    expect(outcome.second.sequence.ids).toHaveLength(3);
    expect(outcome.second.sequence.ids).toEqual(outcome.first.sequence.ids);
    expect(outcome.second.sequence.logprobs).toEqual(outcome.first.sequence.logprobs);
  }, 300_000); // two workers, each compiling its pipelines on SwiftShader: about 40 s apiece
});
