// The one way Node code (tests, CLI, bench) gets a real GPUDevice: Dawn through the `webgpu`
// package. No mocks: on a machine without a GPU this is SwiftShader, a real Vulkan implementation.
import { create, globals } from 'webgpu';
import { findSwiftShaderIcd } from './dawn-env';
import { requestDeviceForModels } from '../engine/gpu/capabilities';

let gpuInstance: GPU | undefined;

function nodeGpu(): GPU {
  if (!gpuInstance) {
    // Dawn's JS bindings expect the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) to exist.
    Object.assign(globalThis, globals);
    gpuInstance = create([]) as unknown as GPU;
  }
  return gpuInstance;
}

export interface NodeDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Human-readable adapter description, e.g. "SwiftShader Device (Subzero)". */
  description: string;
  isSoftware: boolean;
}

/**
 * Requests an adapter and a device with the adapter's maximum buffer limits (models need large
 * storage buffers) and `shader-f16` when the adapter has it.
 */
export async function requestNodeDevice(): Promise<NodeDevice> {
  const gpu = nodeGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const icd = findSwiftShaderIcd();
    throw new Error(
      'No WebGPU adapter found by Dawn. ' +
        (icd
          ? `Start the process with VK_ICD_FILENAMES=${icd} and LD_LIBRARY_PATH=${icd.slice(0, icd.lastIndexOf('/'))} (tests and the CLI do this for you).`
          : "Install Debian's chromium package (apt-get install chromium) for the SwiftShader Vulkan driver, or a GPU driver."),
    );
  }
  const device = await requestDeviceForModels(adapter);
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  const isSoftware = /swiftshader|llvmpipe|lavapipe/i.test(description);
  return { adapter, device, description, isSoftware };
}
