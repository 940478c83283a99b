// Vite build plugin (runs in Node, not in the app): writes dist/sw.js from service-worker.ts once
// every output file is on disk, with the build's file list and a content version in place of
// __ASP_SHELL_BUILD__. Under `vite` (dev server) it does nothing, so dev modules are never cached.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformWithOxc, type Plugin, type ResolvedConfig } from 'vite';

export const SERVICE_WORKER_FILE = 'sw.js';
/** Files above this size are cached when first fetched instead of on install (e.g. the 11 MB tokenizer, 27 MB wasm). */
export const PRECACHE_MAX_BYTES = 2 * 1024 * 1024;
const PLACEHOLDER = '__ASP_SHELL_BUILD__';
const SOURCE = fileURLToPath(new URL('./service-worker.ts', import.meta.url));

export interface OutputFile {
  path: string;
  size: number;
  hash: string;
}

/** Splits the build's files into precached and on-demand ones, and names the build by their content. */
export function shellManifest(files: OutputFile[]): { version: string; precache: string[]; onDemand: string[] } {
  const served = files.filter((f) => f.path !== SERVICE_WORKER_FILE && !f.path.endsWith('.map')).sort((a, b) => a.path.localeCompare(b.path));
  const version = createHash('sha256')
    .update(served.map((f) => `${f.path}\0${f.hash}\n`).join(''))
    .digest('hex')
    .slice(0, 16);
  return {
    version,
    precache: served.filter((f) => f.size <= PRECACHE_MAX_BYTES).map((f) => f.path),
    onDemand: served.filter((f) => f.size > PRECACHE_MAX_BYTES).map((f) => f.path),
  };
}

/** The service worker as a classic script (a module worker would need `type: 'module'` support). */
export async function serviceWorkerScript(build: ReturnType<typeof shellManifest>): Promise<string> {
  const { code } = await transformWithOxc(readFileSync(SOURCE, 'utf8'), SOURCE, { lang: 'ts' });
  // TypeScript needs `export {}` to scope `declare const self`; the emitted script must have none.
  const script = code.replace(/^export \{\};?\s*$/m, '');
  if (/^\s*(import|export)\b/m.test(script)) throw new Error(`${SOURCE}: the service worker must not import or export anything`);
  const parts = script.split(PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`${SOURCE}: expected ${PLACEHOLDER} exactly once, found ${parts.length - 1}`);
  return parts.join(JSON.stringify(build));
}

function listFiles(dir: string): OutputFile[] {
  const out: OutputFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else
        out.push({
          path: relative(dir, full).split(sep).join('/'),
          size: statSync(full).size,
          hash: createHash('sha256').update(readFileSync(full)).digest('hex'),
        });
    }
  };
  walk(dir);
  return out;
}

export function shellServiceWorker(): Plugin {
  let config: ResolvedConfig;
  return {
    name: 'asp-shell-service-worker',
    apply: 'build',
    configResolved(c) {
      config = c;
    },
    writeBundle: {
      order: 'post',
      async handler() {
        const outDir = resolve(config.root, config.build.outDir);
        const script = await serviceWorkerScript(shellManifest(listFiles(outDir)));
        writeFileSync(join(outDir, SERVICE_WORKER_FILE), script);
      },
    },
  };
}
