// The browser's Cache API backend (CacheStorageByteCache) in real Chromium: a model downloaded once
// is served from the cache in a later page with no request; a truncated download leaves no entry.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../models/tiny-model';
import { launchBrowser } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

const REPO = 'test-org/tiny-qwen3';
const tiny = makeTinyModel({ arch: 'qwen3', layers: 1, seed: 21 });

// Exposes the model I/O modules to page.evaluate.
const ENTRY = `
import { CacheStorageByteCache } from './src/hf-io/cache';
import { HubSource } from './src/hf-io/hub-source';
import { loadModel } from './src/hf-io/load-model';
import { LocalFilesSource } from './src/hf-io/sources';
window.modelIO = { CacheStorageByteCache, HubSource, loadModel, LocalFilesSource };
`;

type PageResult = { ok: boolean; message?: string; layers?: number; normBytes?: number[]; fromCache?: boolean[]; keys?: string[] };

describe('Chromium: model download cache in CacheStorage', () => {
  let root: string;
  let server: StaticServer;
  let browser: Browser;
  // One context for all pages: CacheStorage is per context (browser.newPage() would make a fresh one).
  let context: BrowserContext;
  let truncateAt: { path: string; bytes: number } | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'model-cache-'));
    mkdirSync(join(root, 'repo'));
    for (const [name, bytes] of tiny.files) writeFileSync(join(root, 'repo', name), bytes);
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      format: 'esm',
      write: false,
      logLevel: 'silent',
      platform: 'browser',
    });
    writeFileSync(join(root, 'model-io.js'), bundle.outputFiles[0].contents);
    writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="/model-io.js"></script>');
    server = await startStaticServer({
      root,
      rewrite: (path) => {
        const m = path.match(/^\/test-org\/tiny-qwen3\/resolve\/main\/(.+)$/);
        return m ? `/repo/${m[1]}` : path;
      },
      truncate: (path) => (truncateAt && path === truncateAt.path ? truncateAt.bytes : undefined),
    });
    browser = await launchBrowser();
    context = await browser.newContext();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function openPage(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await page.waitForFunction(() => 'modelIO' in window);
    return page;
  }

  /** Loads the model in the page through a CacheStorage-backed HubSource. */
  function loadInPage(page: Page): Promise<PageResult> {
    return page.evaluate(
      async ({ repo, baseUrl }) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const io = (window as any).modelIO;
        const cache = new io.CacheStorageByteCache('asp-models-test');
        const fromCache: boolean[] = [];
        try {
          const model = await io.loadModel(new io.HubSource({ repo, baseUrl, cache }), {
            extraFiles: ['generation_config.json'],
            onProgress: (p: { fromCache: boolean }) => fromCache.push(p.fromCache),
          });
          const norm = await model.checkpoint.tensor('model.norm.weight');
          return { ok: true, layers: model.config.numLayers, normBytes: Array.from(norm.bytes as Uint8Array), fromCache, keys: await cache.list() };
        } catch (e) {
          return { ok: false, message: (e as Error).message, keys: await cache.list() };
        }
      },
      { repo: REPO, baseUrl: server.url },
    );
  }

  it('a truncated download errors and stores nothing; the retry downloads, and a new page loads from the cache with no request', async () => {
    const weightsPath = `/${REPO}/resolve/main/model.safetensors`;
    const weights = tiny.files.get('model.safetensors')!;
    const page = await openPage();

    truncateAt = { path: weightsPath, bytes: Math.floor(weights.byteLength / 3) };
    const cut = await loadInPage(page);
    truncateAt = undefined;
    expect(cut.ok).toBe(false);
    expect(cut.message).toMatch(/^model\.safetensors: download (cut off after|truncated: received) \d+/);
    expect(cut.keys).not.toContain(server.url + weightsPath);

    const first = await loadInPage(page);
    expect(first.message).toBeUndefined();
    expect(first.layers).toBe(1);
    expect(first.keys).toContain(server.url + weightsPath);
    await page.close();

    const hitsBefore = [...server.hits.entries()].filter(([p]) => p.startsWith(`/${REPO}/`)).reduce((s, [, n]) => s + n, 0);
    const page2 = await openPage();
    const second = await loadInPage(page2);
    await page2.close();
    const hitsAfter = [...server.hits.entries()].filter(([p]) => p.startsWith(`/${REPO}/`)).reduce((s, [, n]) => s + n, 0);
    expect(second.ok).toBe(true);
    expect(hitsAfter).toBe(hitsBefore);
    expect(second.fromCache!.every(Boolean)).toBe(true);
    expect(second.normBytes).toEqual(first.normBytes);
    expect(second.normBytes!.length).toBe(tiny.config.hiddenSize * 4);
  });

  it('loads a picked folder (File objects with webkitRelativePath) in the page', async () => {
    const page = await openPage();
    const result = await page.evaluate(
      async (names) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const io = (window as any).modelIO;
        // The files as a folder picker would hand them over (fetched from the plain /repo/ path).
        const picked = await Promise.all(
          names.map(async (name) => {
            const f = new File([await (await fetch(`/repo/${name}`)).blob()], name);
            Object.defineProperty(f, 'webkitRelativePath', { value: `tiny/${name}` });
            return f;
          }),
        );
        const model = await io.loadModel(new io.LocalFilesSource(picked), { extraFiles: [] });
        return { arch: model.config.architecture as string, tensors: model.checkpoint.names().length as number };
      },
      ['config.json', 'model.safetensors'],
    );
    await page.close();
    expect(result.arch).toBe('Qwen3ForCausalLM');
    expect(result.tensors).toBe(2 + 11);
  });
});
