// Registers the app-shell service worker (service-worker.ts, built to sw.js) in built apps on
// secure contexts (https, localhost, 127.0.0.1): browsers refuse service workers elsewhere.
// Under the Vite dev server there is no sw.js, and one left over from a build served on the same
// origin would answer with stale code, so dev unregisters it instead. The dev server is told
// apart by import.meta.hot (only it has HMR), not import.meta.env.PROD, which is false in any
// build made with NODE_ENV other than production (the test build runs under NODE_ENV=test).
import { createSignal } from 'solid-js';

/** True once a service worker controls this page: its install precached the whole app shell. */
export const [shellOffline, setShellOffline] = createSignal(false);

export function registerShellServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const sw = navigator.serviceWorker;
  if (import.meta.hot) {
    sw.getRegistrations().then(
      (all) => all.forEach((r) => r.unregister()),
      () => undefined,
    );
    return;
  }
  setShellOffline(sw.controller !== null);
  sw.addEventListener('controllerchange', () => setShellOffline(sw.controller !== null));
  const register = () => {
    sw.register(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL })
      // Not an error for the app: it works online without one.
      .catch((e: unknown) => console.warn(`offline support unavailable: ${(e as Error)?.message ?? e}`));
  };
  // After load, so installing (which downloads the shell again) does not compete with first paint.
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
