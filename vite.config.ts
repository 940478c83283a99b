import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

// The playground is a static site. All GPU work happens in workers/engine.worker.ts,
// bundled as an ES module worker so it can import the engine directly.
export default defineConfig({
  plugins: [solid()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { port: 5173, strictPort: false },
  preview: { port: 4173 },
});
