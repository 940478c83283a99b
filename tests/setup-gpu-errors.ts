// Runs in every test file (vitest setupFiles): a test fails if the shared test device reported an
// uncaptured GPU error while it ran (see tests/helpers/gpu-errors.ts). Errors a test provokes on
// purpose must be caught with an error scope, as the engine does.
import { afterEach, expect } from 'vitest';
import { takeUncapturedGpuErrors } from './helpers/gpu-errors';

afterEach(async () => {
  // Errors arrive asynchronously; let the device's pending callbacks run first.
  await new Promise((resolve) => setTimeout(resolve, 0));
  expect(takeUncapturedGpuErrors(), 'uncaptured GPU errors').toEqual([]);
});
