// Every GPU test gets its device here: one real Dawn device per test process, shared by the
// tests in a file. Uses a real GPU where present, else SwiftShader (see src/node/dawn-env.ts).
import { GpuContext } from '../../src/engine/gpu/context';
import { requestNodeDevice, type NodeDevice } from '../../src/node/gpu';
import { recordUncapturedGpuError } from './gpu-errors';

let devicePromise: Promise<NodeDevice> | undefined;

/** The shared device; its uncaptured errors fail the running test (tests/setup-gpu-errors.ts). */
export function getTestDevice(): Promise<NodeDevice> {
  devicePromise ??= requestNodeDevice().then((d) => {
    d.device.addEventListener('uncapturederror', (event) => recordUncapturedGpuError((event as GPUUncapturedErrorEvent).error.message));
    return d;
  });
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
