// Headless Chromium with real WebGPU (SwiftShader when there is no GPU), driven by playwright-core
// with the system chromium binary: no browser download.
import { chromium, type Browser } from 'playwright-core';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(): string {
  const found = process.env.CHROMIUM_PATH ?? CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error('No chromium binary found. Install it with: sudo apt-get install -y chromium');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--enable-unsafe-webgpu',
      '--enable-unsafe-swiftshader',
      '--enable-features=Vulkan',
      '--use-angle=swiftshader',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Folder that the global setup builds the app into for page-level tests. */
export const TEST_DIST_DIR = join(process.cwd(), '.cache', 'test-dist');

/** URL path of the built engine worker bundle (its file name carries Vite's content hash). */
export function builtEngineWorkerPath(): string {
  const worker = readdirSync(join(TEST_DIST_DIR, 'assets')).find((f) => /^engine\.worker-.*\.js$/.test(f));
  if (!worker) throw new Error('the built app has no engine worker asset');
  return `/assets/${worker}`;
}
