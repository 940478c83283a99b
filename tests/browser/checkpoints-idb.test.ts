// The checkpoint store against Chromium's real IndexedDB: save, list, survive a page reload, load
// back bit-identical, atomicity (aborted transaction, and a tab closed mid-write), quota error,
// base-model refusal, deletion, and the same store inside a Web Worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { computeModelIdentity } from '../../src/checkpoints';
import type { CheckpointTestApi } from './pages/checkpoints-entry';
import type { FixtureOptions } from './pages/checkpoint-fixture';

const PAGES = join(process.cwd(), 'tests', 'browser', 'pages');

describe('Chromium: checkpoint store on real IndexedDB', () => {
  let dir: string;
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkpoints-page-'));
    await build({
      entryPoints: [join(PAGES, 'checkpoints-entry.ts'), join(PAGES, 'checkpoints-worker.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      outdir: dir,
      logLevel: 'warning',
    });
    copyFileSync(join(PAGES, 'checkpoints.html'), join(dir, 'index.html'));
    server = await startStaticServer({ root: dir });
    browser = await launchBrowser();
    context = await browser.newContext(); // one profile: IndexedDB persists across pages in it
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(inContext = context): Promise<Page> {
    const page = await inContext.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + '/index.html');
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    expect(errors).toEqual([]);
    return page;
  }

  function call<K extends keyof CheckpointTestApi>(page: Page, method: K, ...args: Parameters<CheckpointTestApi[K]>) {
    return page.evaluate(
      ([m, a]) => {
        const api = (window as unknown as { checkpointTest: Record<string, (...x: unknown[]) => unknown> }).checkpointTest;
        return api[m as string](...(a as unknown[]));
      },
      [method, args] as const,
    ) as Promise<Awaited<ReturnType<CheckpointTestApi[K]>>>;
  }

  const first: FixtureOptions = { name: 'first', seed: 1, layers: 3, hidden: 64, rank: 8, step: 12 };

  it('saves, lists, survives a reload, loads back bit-identical, renames and deletes', async () => {
    let page = await openPage();
    const saved = await call(page, 'save', first);
    expect(saved.byteSize).toBeGreaterThan(4 * 16 * 1024); // several 16 KiB chunks
    expect(await call(page, 'list')).toEqual([saved]);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    expect(await call(page, 'list')).toEqual([saved]);
    expect(await call(page, 'loadDifference', saved.id, first)).toBeUndefined();
    await page.close();

    page = await openPage(); // a new tab in the same profile
    expect((await call(page, 'rename', saved.id, 'renamed')).name).toBe('renamed');
    expect((await call(page, 'list')).map((r) => r.name)).toEqual(['renamed']);
    const second = await call(page, 'save', { name: 'second', seed: 2 });
    await call(page, 'delete', second.id);
    expect((await call(page, 'list')).map((r) => r.id)).toEqual([saved.id]);
    expect(await call(page, 'chunkIds')).toEqual([saved.id]);
    expect(await call(page, 'resumeOnOtherModel', saved.id)).toBe(
      "CheckpointModelMismatchError: Checkpoint 'renamed' was trained on another base model than the one loaded: revision 'main' vs 'other'",
    );
    const report = await call(page, 'storageReport');
    expect(report.checkpointCount).toBe(1);
    expect(report.checkpointBytes).toBe(saved.byteSize);
    expect(report.origin?.quotaBytes).toBeGreaterThan(0);
    await call(page, 'rename', saved.id, 'first');
    await page.close();
  });

  it('an aborted write and a tab closed mid-write leave no partial checkpoint; earlier ones stay intact', async () => {
    let page = await openPage();
    const before = await call(page, 'list');
    expect(before.map((r) => r.name)).toEqual(['first']);

    expect(await call(page, 'saveAbortedHalfway', { name: 'aborted', seed: 3, layers: 3, hidden: 64 })).toMatch(
      /^CheckpointError: Checkpoint 'aborted' was not saved \(nothing was written\): /,
    );
    expect(await call(page, 'list')).toEqual(before);
    expect(await call(page, 'chunkIds')).toEqual([before[0].id]);

    // The tab dies while the write transaction is still open (all puts issued, not committed).
    await call(page, 'startSaveThatHangs', { name: 'dies with the tab', seed: 4, layers: 3, hidden: 64 });
    await page.waitForFunction(() => (window as unknown as { halfway?: boolean }).halfway === true);
    await page.close();

    page = await openPage();
    expect(await call(page, 'list')).toEqual(before);
    expect(await call(page, 'chunkIds')).toEqual([before[0].id]);
    expect(await call(page, 'loadDifference', before[0].id, first)).toBeUndefined();
    await page.close();
  });

  it('reports a quota failure clearly and keeps earlier checkpoints', async () => {
    const page = await openPage();
    const message = await call(page, 'saveQuotaExceeded', { name: 'too big', seed: 5, layers: 3, hidden: 64 });
    expect(message).toMatch(
      /^CheckpointQuotaError: Not enough browser storage to save checkpoint 'too big' \(needs [0-9.]+ MB, the browser reports [0-9]+ MB free but refused the write\)\. Delete old checkpoints or export them\.$/,
    );
    expect((await call(page, 'list')).map((r) => r.name)).toEqual(['first']);
    await page.close();
  });

  it('hits the real quota (lowered through DevTools): the refused write leaves nothing partial', async () => {
    // A fresh profile: Chromium applies a quota override only to an origin whose IndexedDB has not
    // been opened yet, and enforces it on commit while estimate() keeps showing the default quota.
    const quotaContext = await browser.newContext();
    try {
      const page = await openPage(quotaContext);
      const cdp = await quotaContext.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 512 * 1024 });
      const small: FixtureOptions = { name: 'small', seed: 8 };
      expect(await call(page, 'trySave', small, true)).toBe('saved small');
      const big: FixtureOptions = { name: 'over quota', seed: 7, layers: 6, hidden: 256, rank: 8 };
      expect(await call(page, 'trySave', big, true)).toMatch(
        /^CheckpointQuotaError: Not enough browser storage to save checkpoint 'over quota' \(needs 0\.[0-9] MB, the browser reports [0-9]+ MB free but refused the write\)\. Delete old checkpoints or export them\.$/,
      );
      expect(await call(page, 'trySave', big, false)).toMatch(
        /^CheckpointQuotaError: Not enough browser storage to save checkpoint 'over quota' \(needs 0\.[0-9] MB, free space unknown\)\. /,
      );
      const rows = await call(page, 'list');
      expect(rows.map((r) => r.name)).toEqual(['small']);
      expect(await call(page, 'chunkIds')).toEqual([rows[0].id]);
      expect(await call(page, 'loadDifference', rows[0].id, small)).toBeUndefined();
    } finally {
      await quotaContext.close();
    }
  });

  it('works inside a dedicated worker, and the page sees what the worker saved', async () => {
    const page = await openPage();
    const opts: FixtureOptions = { name: 'from worker', seed: 6 };
    const result = await call(page, 'roundTripInWorker', opts);
    expect(result.error).toBeUndefined();
    expect(result.difference).toBeUndefined();
    expect((await call(page, 'list')).map((r) => r.name).sort()).toEqual(['first', 'from worker']);
    expect(await call(page, 'loadDifference', result.id as string, opts)).toBeUndefined();
    await page.close();
  });

  it('computes the same model fingerprint with the browser SubtleCrypto as in Node', async () => {
    const page = await openPage();
    const size = 3 * 1024 * 1024 + 5;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const inNode = await computeModelIdentity({ repo: 'r/m', revision: 'main', configJson: '{"a":1}', weightFiles: [{ name: 'w.safetensors', bytes }] });
    expect(await call(page, 'identityOf', size)).toEqual(inNode);
    await page.close();
  });
});
