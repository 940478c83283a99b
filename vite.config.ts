import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { shellServiceWorker } from './src/offline/build-plugin.ts';
import { fileURLToPath } from 'node:url';

const page = (file: string) => fileURLToPath(new URL(file, import.meta.url));

// The playground is a static site with two pages: the app (index.html), whose GPU work all happens
// in workers/engine.worker.ts, and the benchmark (bench.html), whose worker is
// workers/bench.worker.ts. Workers are bundled as ES modules so they can import the engine directly.
// The build also writes sw.js, the app-shell service worker (src/offline/), for offline reloads.
export default defineConfig({
  plugins: [solid(), shellServiceWorker()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: { input: { main: page('./index.html'), bench: page('./bench.html') } },
  },
  server: { port: 5173, strictPort: false },
  preview: { port: 4173 },
});
