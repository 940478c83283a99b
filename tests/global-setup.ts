// Builds the app once per test run, for the page-level (Chromium) tests.
import { build } from 'vite';
import { TEST_DIST_DIR } from './helpers/browser';

export default async function setup() {
  await build({ logLevel: 'warn', build: { outDir: TEST_DIST_DIR, emptyOutDir: true, sourcemap: false } });
}
