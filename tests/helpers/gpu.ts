// Every GPU test gets its device here: one real Dawn device per test process, shared by the
// tests in a file. Uses a real GPU where present, else SwiftShader (see src/node/dawn-env.ts).
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
