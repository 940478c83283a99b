// Uncaptured GPU errors (shader compile or validation) of the shared test device, collected here
// so tests/setup-gpu-errors.ts can fail whichever test raised them: a broken kernel otherwise just
// leaves its output untouched. No imports, so test files that never touch the GPU load no Dawn.
const uncaptured: string[] = [];

export function recordUncapturedGpuError(message: string) {
  uncaptured.push(message);
}

/** Returns and forgets the errors recorded since the last call. */
export function takeUncapturedGpuErrors(): string[] {
  return uncaptured.splice(0);
}
