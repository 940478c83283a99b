// Demo mode offline (issue #7 §6): the built app's service worker caches the app shell, a model
// loaded once from a hub mirror stays in the hub cache, and after the network is gone (Chromium
// offline and both servers stopped) a reload shows the app, the model loads again from the caches,
// and the demo story runs. Also: no request ever leaves for a third origin.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../models/tiny-model';
import { bundledTokenizerFiles } from '../../models/tokenizers/bundled';
import { launchBrowser, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { SCREENSHOT_DIR, screenshot } from './app-fixture';

// A random-weight 1-layer Qwen3 with the real tokenizer, served where the app's registry expects
// Qwen/Qwen3-0.6B (the mirror URL points the app at this server).
const REPO = 'Qwen/Qwen3-0.6B';
const REGISTRY_ID = 'qwen3-0.6b';

/** The build's service-worker manifest, read from the sw.js the build wrote. */
function shellBuild(): { version: string; precache: string[]; onDemand: string[] } {
  const script = readFileSync(join(TEST_DIST_DIR, 'sw.js'), 'utf8');
  const m = script.match(/^const BUILD = (\{.*\});$/m);
  if (!m) throw new Error('sw.js has no BUILD manifest line');
  return JSON.parse(m[1]);
}

describe('app offline: service worker and cached hub model', () => {
  let hubRoot: string;
  let appServer: StaticServer;
  let hubServer: StaticServer;
  let browser: Browser;
  let context: BrowserContext;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const tokenizer = await bundledTokenizerFiles('qwen3');
    const enc = new TextEncoder();
    const tokenizerFiles = new Map([
      ['tokenizer.json', enc.encode(JSON.stringify(tokenizer.tokenizerJson))],
      ['tokenizer_config.json', enc.encode(JSON.stringify(tokenizer.tokenizerConfig))],
    ]);
    const model = makeTinyModel({ arch: 'qwen3', vocab: 'real', layers: 1, seed: 7, tokenizerFiles });
    hubRoot = mkdtempSync(join(tmpdir(), 'offline-hub-'));
    mkdirSync(join(hubRoot, 'repo'));
    for (const [name, bytes] of model.files) writeFileSync(join(hubRoot, 'repo', name), bytes);
    hubServer = await startStaticServer({
      root: hubRoot,
      rewrite: (path) => (path.startsWith(`/${REPO}/resolve/main/`) ? `/repo/${path.slice(`/${REPO}/resolve/main/`.length)}` : undefined),
    });
    appServer = await startStaticServer({ root: TEST_DIST_DIR });
    browser = await launchBrowser();
    // One context throughout: service worker registrations and CacheStorage live in it.
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.on('request', (r) => requests.push(r.url()));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await appServer?.close();
    await hubServer?.close();
    if (hubRoot) rmSync(hubRoot, { recursive: true, force: true });
  });

  function watch(page: Page) {
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  }

  async function loadHubModel(page: Page) {
    await page.getByTestId('model-select').selectOption(REGISTRY_ID);
    await page.getByTestId('quant-select').selectOption('q8');
    await page.getByTestId('max-new-tokens').fill('4');
    await page.getByTestId('max-new-tokens').dispatchEvent('change');
    await page.getByTestId('load-model').click();
    await page.getByTestId('model-loaded').or(page.getByTestId('model-error')).waitFor({ timeout: 120_000 });
    const error = page.getByTestId('model-error');
    if (await error.count()) throw new Error(`model load failed: ${await error.textContent()}`);
  }

  it('reloads without network: app shell from the service worker, model from the caches, demo runs', async () => {
    const build = shellBuild();
    expect(build.precache).toEqual(expect.arrayContaining(['index.html', 'bench.html', 'favicon.svg']));
    expect(build.precache.some((p) => /^assets\/engine\.worker-.+\.js$/.test(p))).toBe(true);
    expect(build.precache.some((p) => p.endsWith('.wasm'))).toBe(false);

    // Caches as an older build and the model stores would leave them: the new worker copies the
    // hashed file it shares with the old shell cache instead of downloading it, deletes the old
    // shell cache, and leaves every other cache alone.
    // (A file this test never uses: the built-in tiny model's tokenizer config.)
    const shared = build.precache.find((p) => /^assets\/tokenizer_config-.+\.json$/.test(p))!;
    const setup = await context.newPage();
    await setup.goto(`${appServer.url}/favicon.svg`);
    await setup.evaluate(
      async ({ shared }) => {
        await (await caches.open('asp-shell-0ld')).put(`/${shared}`, new Response('/* carried over */', { headers: { 'content-type': 'text/javascript' } }));
        await (await caches.open('asp-shell-0ld')).put('/assets/gone-1234.js', new Response('/* old */'));
        await (await caches.open('not-the-shell')).put('/kept', new Response('kept'));
      },
      { shared },
    );
    await setup.close();

    const page = await context.newPage();
    await watch(page);
    await page.goto(`${appServer.url}/`);
    await page.getByRole('tablist').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    const shell = await page.evaluate(
      async ({ shared }) => {
        const names = await caches.keys();
        const name = names.find((n) => n.startsWith('asp-shell-'));
        const keys = name ? (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname.slice(1)) : [];
        const carried = name ? await (await (await caches.open(name)).match(`/${shared}`))?.text() : undefined;
        return { names, name, keys, carried };
      },
      { shared },
    );
    expect(shell.name).toBe(`asp-shell-${build.version}`);
    expect(shell.keys).toEqual(expect.arrayContaining(build.precache));
    expect(shell.keys).not.toContain('assets/gone-1234.js');
    expect(shell.carried).toBe('/* carried over */');
    expect(appServer.hits.get(`/${shared}`)).toBeUndefined();
    expect(shell.names.filter((n) => n.startsWith('asp-shell-'))).toEqual([`asp-shell-${build.version}`]);
    expect(shell.names).toContain('not-the-shell');

    // Online, pages come from the network (fresh code) and hashed assets from the cache.
    const main = build.precache.find((p) => /^assets\/main-.+\.js$/.test(p))!;
    const pageHits = appServer.hits.get('/') ?? 0;
    const mainHits = appServer.hits.get(`/${main}`) ?? 0;
    await page.reload();
    await page.getByRole('tablist').waitFor({ timeout: 60_000 });
    expect(appServer.hits.get('/')).toBe(pageHits + 1);
    expect(appServer.hits.get(`/${main}`)).toBe(mainHits);

    // A large build file is cached when first fetched, also from the engine worker (which the
    // service worker took over): here the tokenizer that the built-in tiny model reads.
    const tokenizer = build.onDemand.find((p) => /^assets\/tokenizer-.+\.json$/.test(p))!;
    const engineWorker = () => page.workers().find((w) => w.url().includes('/assets/engine.worker-'))!;
    const fetchInWorker = () =>
      engineWorker().evaluate(async (path) => {
        const r = await fetch(`/${path}`);
        return `${r.status} ${(await r.arrayBuffer()).byteLength}`;
      }, tokenizer);
    const tokenizerOnline = await fetchInWorker();
    expect(tokenizerOnline).toMatch(/^200 \d+$/);

    // Point the app at the local hub mirror and load the model once (downloaded and cached).
    await page.locator('#mirror').fill(hubServer.url);
    await page.locator('#mirror').dispatchEvent('change');
    await page.getByTestId('model-select').selectOption(REGISTRY_ID);
    await page.getByTestId('offline-status').filter({ hasText: 'app ✓, model Qwen3 0.6B ✗' }).waitFor({ timeout: 10_000 });
    await loadHubModel(page);
    expect(await page.getByTestId('download-progress').textContent()).not.toContain('(from cache)');
    await page.getByTestId('offline-status').filter({ hasText: 'app ✓, model Qwen3 0.6B ✓' }).waitFor({ timeout: 10_000 });

    // The network goes away: Chromium offline, and both servers stopped.
    await context.setOffline(true);
    await appServer.close();
    await hubServer.close();
    const hitsBefore = requests.length;
    await page.reload();
    await page.getByRole('tablist').waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('offline-status').textContent()).toMatch(/app ✓/);

    expect(await fetchInWorker()).toBe(tokenizerOnline);

    const t0 = Date.now();
    await loadHubModel(page);
    const reloadSeconds = (Date.now() - t0) / 1000;
    expect(await page.getByTestId('download-progress').textContent()).toContain('(from cache)');
    expect(await page.getByTestId('upload-progress').textContent()).toContain('from cache');
    expect(await page.getByTestId('model-chip').textContent()).toContain(REPO);
    expect(await page.getByTestId('offline-status').textContent()).toMatch(/app ✓.*model Qwen3 0\.6B ✓/);

    // Demo mode: the preset story, the cached model (4 tokens a turn) against the oracle, stepped to the end.
    await page.getByTestId('open-demo').click();
    await page.getByTestId('demo').waitFor();
    await page.getByLabel('Left policy').selectOption('model');
    await page.getByTestId('demo').focus();
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('demo-email').waitFor();
    await page.keyboard.press('ArrowRight');
    const t1 = Date.now();
    await page.getByTestId('demo-column-0').waitFor({ timeout: 300_000 });
    const demoSeconds = (Date.now() - t1) / 1000;
    for (let i = 0; i < 12; i++) await page.keyboard.press(' ');
    await page.getByTestId('demo-verdict').first().waitFor({ timeout: 10_000 });
    const verdicts = await page.getByTestId('demo-verdict').allTextContents();
    expect(verdicts).toHaveLength(2);
    expect(await page.getByTestId('demo-column-0').locator('h2').textContent()).toBe('model');
    expect(await page.getByTestId('demo-column-0').getByTestId('turn').count()).toBeGreaterThan(0);
    expect(verdicts[1]).toContain('Attack blocked');
    expect(await page.getByTestId('demo-error').count()).toBe(0);
    await page.getByTestId('demo-verdict').first().scrollIntoViewIfNeeded();
    await page.waitForTimeout(500); // the demo scrolls smoothly to the newest step
    await screenshot(page, 'app-offline-demo');

    // The benchmark page is part of the shell too.
    const bench = await context.newPage();
    await watch(bench);
    await bench.goto(`${appServer.url}/bench.html`);
    await bench.getByRole('heading', { name: 'Benchmark this GPU' }).waitFor({ timeout: 30_000 });
    // Its script and worker (from the cache) ran: the worker reported an adapter.
    await expect.poll(() => bench.getByTestId('bench-adapter').textContent(), { timeout: 60_000 }).toMatch(/^Adapter: /);
    await bench.close();

    // Everything after the reload was answered by the service worker or the caches; nothing ever
    // went to an origin other than the app's and the model mirror's.
    const origins = new Set(requests.filter((u) => /^https?:/.test(u)).map((u) => new URL(u).origin));
    expect([...origins].filter((o) => o !== appServer.url && o !== hubServer.url)).toEqual([]);
    console.log(
      `offline reload: model loaded from the caches in ${reloadSeconds.toFixed(1)} s; demo episodes ran in ${demoSeconds.toFixed(1)} s; requests after going offline: ${requests.length - hitsBefore}; app files fetched online: ${[...appServer.hits.keys()].join(' ')}`,
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 500_000);
});
