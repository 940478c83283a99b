// The Checkpoints tab on real IndexedDB in Chromium (a test-only page seeds the store with the
// checkpoint fixture): list with sizes and storage, rename, delete after confirmation, and a
// checkpoint name carrying markup shown as text.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
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
import { CheckpointStore } from '../../src/checkpoints/index';
import { makeCheckpoint } from '../../tests/browser/pages/checkpoint-fixture';
import '../../src/app/styles.css';
const store = new CheckpointStore();
const existing = await store.list();
for (const c of existing) await store.delete(c.id);
// The fixture's tensors hold NaN and infinities on purpose; the first checkpoint gets finite
// values so it can be exported, the second keeps them so export must refuse with a named error.
const finite = makeCheckpoint({ name: 'first-run', step: 10 });
for (const t of Object.values(finite.adapter)) t.data = t.data.map((_, i) => Math.sin(i) * 0.01);
await store.save(finite);
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
    await build({
      root: ROOT,
      configFile: false,
      logLevel: 'warn',
      plugins: [solid()],
      build: { outDir: join(ROOT, 'dist'), emptyOutDir: true, target: 'es2022' },
    });
    server = await startStaticServer({ root: join(ROOT, 'dist') });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(server.url + '/');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists, renames and deletes checkpoints with sizes and storage use', async () => {
    const rows = page.locator('[data-testid="stored-checkpoints"] tbody tr');
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

    // Export as ONE zip named after the checkpoint: a folder with the PEFT files and our sidecar.
    const downloads: { name: string; path: string }[] = [];
    page.on('download', async (d) => downloads.push({ name: d.suggestedFilename(), path: (await d.path())! }));
    await first.getByRole('button', { name: 'Export first-run as a PEFT adapter (zip)' }).click();
    await expect.poll(async () => downloads.length || (await page.getByRole('alert').allTextContents()).join(' '), { timeout: 10_000 }).toBe(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(downloads[0].name).toBe('first-run.zip');
    const zipPath = downloads[0].path;
    const entries = unzipSync(new Uint8Array(readFileSync(zipPath)));
    expect(Object.keys(entries).sort()).toEqual([
      'first-run/README.md',
      'first-run/adapter_config.json',
      'first-run/adapter_model.safetensors',
      'first-run/playground_checkpoint.json',
    ]);
    const config = JSON.parse(Buffer.from(entries['first-run/adapter_config.json']).toString('utf8'));
    expect(config.r).toBe(4);
    expect(config.peft_type).toBe('LORA');
    expect(JSON.parse(Buffer.from(entries['first-run/playground_checkpoint.json']).toString('utf8'))).toMatchObject({ name: 'first-run', step: 10 });
    const weights = Buffer.from(entries['first-run/adapter_model.safetensors']);
    const header = JSON.parse(weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString('utf8'));
    expect(Object.keys(header).filter((k) => k !== '__metadata__')).toHaveLength(12); // 2 layers × 3 modules × (A, B)

    // A checkpoint with non-finite adapter values is refused, and the error names the tensor.
    await rows
      .filter({ hasText: '<img' })
      .getByRole('button', { name: /^Export/ })
      .click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/tensor '?base_model\.model/);
    expect(downloads).toHaveLength(1);

    await first.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name for first-run').fill('baseline');
    await page.getByRole('button', { name: 'Save' }).click();
    await rows.filter({ hasText: 'baseline' }).waitFor();

    page.once('dialog', (d) => void d.accept());
    await rows.filter({ hasText: '<img' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="stored-checkpoints"] tbody tr').length === 1);
    expect(await rows.first().locator('td').first().textContent()).toBe('baseline');
    expect(await page.getByTestId('storage').textContent()).toMatch(/^1 checkpoint\(s\)/);

    // Importing the zip brings the checkpoint back with its name and step (not "adapter_model" at 0).
    await page.getByTestId('peft-files').setInputFiles({ name: 'first-run.zip', mimeType: 'application/zip', buffer: readFileSync(zipPath) });
    await page.locator('[data-testid="peft-import-done"], [data-testid="peft-import-error"]').first().waitFor({ timeout: 60_000 });
    const importError = page.getByTestId('peft-import-error');
    if (await importError.count()) throw new Error(`the zip import failed: ${await importError.textContent()}`);
    expect(await page.getByTestId('peft-import-done').textContent()).toContain('Imported "first-run" at step 10');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="stored-checkpoints"] tbody tr').length === 2);
    const back = rows.filter({ hasText: 'first-run' });
    expect(await back.locator('td').nth(1).textContent()).toBe('10');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'app-checkpoints-zip-reimported.png'), fullPage: true });
  });
});
