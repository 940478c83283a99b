// The Checkpoints tab on real IndexedDB in Chromium (a test-only page seeds the store with the
// checkpoint fixture): list with sizes and storage, rename, delete after confirmation, and a
// checkpoint name carrying markup shown as text.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import solid from 'vite-plugin-solid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';
import { SCREENSHOT_DIR } from './app-fixture';

const ROOT = join(process.cwd(), '.cache', 'app-checkpoints-page');

const ENTRY = `
import { render } from 'solid-js/web';
import { CheckpointsPanel } from '../../src/app/panels/CheckpointsPanel';
import { CheckpointStore } from '../../src/training/checkpoints/index';
import { makeCheckpoint } from '../../tests/browser/pages/checkpoint-fixture';
import '../../src/app/styles.css';
const store = new CheckpointStore();
const existing = await store.list();
for (const c of existing) await store.delete(c.id);
await store.save(makeCheckpoint({ name: 'first-run', step: 10 }));
await store.save(makeCheckpoint({ name: '<img src=x onerror="window.__pwned=1">', step: 20, seed: 2, layers: 3 }));
await store.close();
render(() => <CheckpointsPanel />, document.getElementById('root'));
`;

describe('app: Checkpoints tab', () => {
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
    page = await browser.newPage();
    await page.goto(server.url + '/');
  });
  afterAll(async () => { await browser?.close(); await server?.close(); });

  it('lists, renames and deletes checkpoints with sizes and storage use', async () => {
    const rows = page.locator('table.data tbody tr');
    await page.getByTestId('storage').waitFor();
    expect(await rows.count()).toBe(2);
    expect(await page.getByTestId('storage').textContent()).toMatch(/^2 checkpoint\(s\), [\d.]+ KiB/);
    const names = await rows.locator('td:first-child').allTextContents();
    expect(names.sort()).toEqual(['<img src=x onerror="window.__pwned=1">', 'first-run']);
    expect(await page.locator('table img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const first = rows.filter({ hasText: 'first-run' });
    expect(await first.locator('td').nth(3).textContent()).toMatch(/KiB$/);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'app-checkpoints.png'), fullPage: true });

    await first.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name for first-run').fill('baseline');
    await page.getByRole('button', { name: 'Save' }).click();
    await rows.filter({ hasText: 'baseline' }).waitFor();

    page.once('dialog', (d) => void d.accept());
    await rows.filter({ hasText: '<img' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table.data tbody tr').length === 1);
    expect(await rows.first().locator('td').first().textContent()).toBe('baseline');
    expect(await page.getByTestId('storage').textContent()).toMatch(/^1 checkpoint\(s\)/);
  });
});
