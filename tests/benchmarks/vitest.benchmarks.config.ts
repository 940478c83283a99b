import { defineConfig } from 'vitest/config';
// The benchmark tests alone, without the GPU/app global setup: npx vitest run --config tests/benchmarks/vitest.benchmarks.config.ts
export default defineConfig({ test: { include: ['tests/benchmarks/**/*.test.ts'], testTimeout: 60000 } });
