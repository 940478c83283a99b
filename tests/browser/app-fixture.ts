// Shared setup for the app's end-to-end tests: the built app (tests/global-setup.ts) served
// statically, headless Chromium, and screenshots saved as test artifacts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, TEST_DIST_DIR } from '../helpers/browser';
import { startStaticServer, type StaticServer } from '../helpers/static-server';

const ERRORS = new WeakMap<Page, string[]>();

export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'screenshots');

export interface AppFixture {
  browser: Browser;
  server: StaticServer;
  open(hash?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startApp(): Promise<AppFixture> {
  const server = await startStaticServer({ root: TEST_DIST_DIR });
  const browser = await launchBrowser();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    browser,
    server,
    async open(hash = '') {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      ERRORS.set(page, errors);
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      await page.goto(`${server.url}/${hash}`);
      try {
        await page.getByRole('tablist').waitFor({ timeout: 60_000 });
      } catch (e) {
        const body = await page.evaluate(() => document.body.innerHTML.slice(0, 500)).catch(() => '(no body)');
        throw new Error(`the app did not render: ${(e as Error).message}\npage errors: ${errors.join(' | ')}\nbody: ${body}`);
      }
      return page;
    },
    async close() {
      await browser?.close();
      await server?.close();
    },
  };
}

export function pageErrors(page: Page): string[] {
  return ERRORS.get(page) ?? [];
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
}
