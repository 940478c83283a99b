import { defineConfig } from 'vitest/config';
import { configureDawnEnvironment } from './src/node/dawn-env.ts';

// Child processes (forks pool) inherit process.env, so the Vulkan loader in every
// test worker sees the SwiftShader ICD when no real GPU is present.
configureDawnEnvironment(process.env);

export default defineConfig({
  test: {
    pool: 'forks',
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    setupFiles: ['tests/setup-gpu-errors.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
