// The app-shell service worker's build step (which files are precached, the build version, the
// emitted classic script) and the hub-model offline check. The worker's behaviour in a browser
// (install, offline reload, update cleanup) is tested on the built app in
// tests/browser/app-offline.test.ts.
import { Script, createContext, runInContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryByteCache } from '../../src/hf-io/cache';
import { PRECACHE_MAX_BYTES, serviceWorkerScript, shellManifest, type OutputFile } from '../../src/offline/build-plugin';
import { hubModelCacheStatus } from '../../src/offline/model-cache-status';

const FILES: OutputFile[] = [
  { path: 'index.html', size: 1154, hash: 'a1' },
  { path: 'bench.html', size: 3065, hash: 'a2' },
  { path: 'favicon.svg', size: 219, hash: 'a3' },
  { path: 'sw.js', size: 4000, hash: 'a4' },
  { path: 'assets/main-X1.js', size: 284_015, hash: 'a5' },
  { path: 'assets/main-X1.js.map', size: 900_000, hash: 'a6' },
  { path: 'assets/engine.worker-Y2.js', size: 848_298, hash: 'a7' },
  { path: 'assets/ort-wasm-Z3.wasm', size: 26_861_777, hash: 'a8' },
  { path: 'assets/tokenizer-W4.json', size: PRECACHE_MAX_BYTES + 1, hash: 'a9' },
  { path: 'assets/small-V5.json', size: PRECACHE_MAX_BYTES, hash: 'b1' },
];

describe('shell manifest', () => {
  it('precaches pages, scripts and small files; leaves large ones on demand; skips the worker itself and source maps', () => {
    const m = shellManifest(FILES);
    expect(m.precache).toEqual(['assets/engine.worker-Y2.js', 'assets/main-X1.js', 'assets/small-V5.json', 'bench.html', 'favicon.svg', 'index.html']);
    expect(m.onDemand).toEqual(['assets/ort-wasm-Z3.wasm', 'assets/tokenizer-W4.json']);
    expect(m.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it('names a build by its content: same files in another order, same version; one changed page, a new version', () => {
    const base = shellManifest(FILES).version;
    expect(shellManifest([...FILES].reverse()).version).toBe(base);
    expect(shellManifest(FILES.map((f) => (f.path === 'index.html' ? { ...f, hash: 'changed' } : f))).version).not.toBe(base);
    // The worker script and source maps are not served from the cache, so they do not version it.
    expect(shellManifest(FILES.map((f) => (f.path.endsWith('.map') || f.path === 'sw.js' ? { ...f, hash: 'x' } : f))).version).toBe(base);
  });
});

describe('service worker script', () => {
  it('is a classic script (no import/export) with the manifest in place, and registers its three handlers', async () => {
    const manifest = shellManifest(FILES);
    const code = await serviceWorkerScript(manifest);
    expect(code).not.toContain('__ASP_SHELL_BUILD__');
    expect(code).not.toMatch(/^\s*(import|export)\b/m);
    expect(() => new Script(code, { filename: 'sw.js' })).not.toThrow(); // a module body would not parse
    const listeners: string[] = [];
    const self = {
      addEventListener: (type: string) => listeners.push(type),
      registration: { scope: 'https://app.example/' },
      location: { origin: 'https://app.example' },
    };
    const context = createContext({ self, URL, Set });
    runInContext(code, context);
    expect(listeners.sort()).toEqual(['activate', 'fetch', 'install']);
    expect(runInContext('BUILD', context)).toEqual(manifest);
  });
});

describe('hub model offline status', () => {
  const entry = { repo: 'Qwen/Qwen3-0.6B', revision: 'main', files: ['config.json', 'model.safetensors', 'tokenizer.json'] };
  const url = (base: string, file: string) => `${base}/Qwen/Qwen3-0.6B/resolve/main/${file}`;

  it('is cached only when every listed file is in the cache under the chosen mirror', async () => {
    const cache = new MemoryByteCache();
    await cache.put(url('https://mirror.example', 'config.json'), new Blob(['{}']));
    await cache.put(url('https://mirror.example', 'tokenizer.json'), new Blob(['{}']));
    await cache.put(url('https://huggingface.co', 'model.safetensors'), new Blob(['x']));
    expect(await hubModelCacheStatus(entry, 'https://mirror.example', cache)).toEqual({ cached: false, missing: ['model.safetensors'] });
    await cache.put(url('https://mirror.example', 'model.safetensors'), new Blob(['x']));
    expect(await hubModelCacheStatus(entry, 'https://mirror.example/', cache)).toEqual({ cached: true, missing: [] });
    expect((await hubModelCacheStatus(entry, 'https://huggingface.co', cache)).missing).toEqual(['config.json', 'tokenizer.json']);
  });
});
