// Every GPU test gets its device here: one real Dawn device per test process, shared by the
// tests in a file. Uses a real GPU where present, else SwiftShader (see src/node/dawn-env.ts).
import { afterEach, beforeAll, expect } from 'vitest';
import { GpuContext } from '../../src/engine/gpu/context';
import { requestNodeDevice, type NodeDevice } from '../../src/node/gpu';

let devicePromise: Promise<NodeDevice> | undefined;

export function getTestDevice(): Promise<NodeDevice> {
  devicePromise ??= requestNodeDevice();
  return devicePromise;
}

/** Copies a GPU buffer back to the CPU (tests only; the engine has its own readback path). */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength = buffer.size, offset = 0): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, byteLength);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

/** A fresh GpuContext (own pipeline and bind-group caches) on the shared test device. */
export async function testContext(): Promise<GpuContext> {
  return new GpuContext((await getTestDevice()).device);
}

/** Records one compute pass and submits it (tests read results back with ctx.read). */
export function runPass(ctx: GpuContext, record: (pass: GPUComputePassEncoder) => void) {
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
}

/**
 * Fails each test of the calling file on any uncaptured GPU error (shader compile or validation):
 * a broken kernel otherwise just leaves its output untouched.
 */
export function failOnGpuErrors() {
  const errors: string[] = [];
  beforeAll(async () => {
    (await getTestDevice()).device.addEventListener('uncapturederror', (event) => errors.push((event as GPUUncapturedErrorEvent).error.message));
  });
  afterEach(() => {
    expect(errors.splice(0)).toEqual([]);
  });
}
