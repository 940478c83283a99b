// The app-shell service worker: lets a reload without network show the app (demo mode on a stage
// with no Wi-Fi). It caches only this origin's own built files; model downloads (another origin,
// the hub or a mirror) are never touched here: HubSource keeps them in its own Cache API store.
//
// Hand-written rather than workbox / vite-plugin-pwa: the whole job is ~100 lines, the app has two
// pages and hashed assets, and a plugin would add a dependency tree and its own runtime for it.
// src/offline/build-plugin.ts compiles this file to dist/sw.js (a classic script) and puts the
// build's file list in place of __ASP_SHELL_BUILD__.
//
// Strategies (so code is never stale while online):
// - navigations (index.html, bench.html): network first, the cached copy when the network fails
//   or is too slow; a successful answer refreshes the cached page.
// - assets/ (Vite's content-hashed names, immutable): cache first.
// - other precached files (favicon): network first.
// - anything else (other origins, POSTs, unknown paths): not intercepted.
// One cache per build (asp-shell-<version>); activating a build deletes older shell caches, after
// copying the hashed files they share, and never touches other caches (models, quantized weights).

interface ShellBuild {
  /** Hash of every file's name and content: a new build gets a new cache. */
  version: string;
  /** Paths relative to the scope, fetched on install: pages, scripts, styles, icons. */
  precache: string[];
  /** Large build files cached only when the app actually fetches them (e.g. a tokenizer). */
  onDemand: string[];
}

declare const self: ServiceWorkerGlobalScope;
declare const __ASP_SHELL_BUILD__: ShellBuild;

const BUILD: ShellBuild = __ASP_SHELL_BUILD__;
const CACHE_PREFIX = 'asp-shell-';
const CACHE_NAME = CACHE_PREFIX + BUILD.version;
/** How long a navigation waits for the network before showing the cached page. */
const NAVIGATION_TIMEOUT_MS = 4000;

const scopeUrl = (path: string) => new URL(path, self.registration.scope).href;
const isHashedAsset = (url: URL) => url.pathname.startsWith(new URL(self.registration.scope).pathname + 'assets/');
const precached = new Set(BUILD.precache.map(scopeUrl));

/** The cache key of a page: "/" and "/?x" are index.html. */
function pageKey(url: URL): string {
  const path = url.pathname.endsWith('/') ? url.pathname + 'index.html' : url.pathname;
  return new URL(path, url.origin).href;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE_NAME);
      // Hashed files of an older build with the same name have the same bytes: copy, don't refetch.
      const known = new Set([...BUILD.precache, ...BUILD.onDemand].filter((p) => p.startsWith('assets/')).map(scopeUrl));
      for (const name of await caches.keys()) {
        if (!name.startsWith(CACHE_PREFIX) || name === CACHE_NAME) continue;
        const old = await caches.open(name);
        for (const request of await old.keys()) {
          const response = known.has(request.url) ? await old.match(request) : undefined;
          if (response) await cache.put(request, response);
        }
      }
      const missing: string[] = [];
      for (const url of precached) if (!(await cache.match(url))) missing.push(url);
      // 'reload' skips the HTTP cache, so an unhashed page cannot come from an older deploy.
      await cache.addAll(missing.map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.href.startsWith(self.registration.scope)) return;
  if (request.mode === 'navigate') event.respondWith(networkFirst(request, pageKey(url), NAVIGATION_TIMEOUT_MS));
  else if (isHashedAsset(url)) event.respondWith(cacheFirst(request));
  else if (precached.has(url.href)) event.respondWith(networkFirst(request, url.href));
});

async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  // Only whole answers: a 206 range reply or an error page must not stand in for the file.
  if (response.status === 200) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request: Request, key: string, timeoutMs?: number): Promise<Response> {
  const cache = await caches.open(CACHE_NAME);
  const fromNetwork = fetch(request).then(async (response) => {
    if (response.status === 200 && response.type === 'basic') await cache.put(key, response.clone());
    return response;
  });
  const cached = () => cache.match(key, { ignoreSearch: true });
  try {
    if (timeoutMs === undefined || !(await cached())) return await fromNetwork;
    const timedOut = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs));
    const response = await Promise.race([fromNetwork, timedOut]);
    if (response) return response;
    fromNetwork.catch(() => undefined); // still refreshes the cache if it arrives later
    return (await cached()) ?? (await fromNetwork);
  } catch (e) {
    const hit = await cached();
    if (hit) return hit;
    throw e;
  }
}

export {};
