// What the user's GPU can do, and a tiny compute self-test proving WebGPU really runs here.
// Pure WebGPU: works in a browser worker and in Node (Dawn) alike.

export interface GpuCapabilities {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  isSoftware: boolean;
  shaderF16: boolean;
  features: string[];
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxStorageBuffersPerShaderStage: number;
  };
  /** Result of a small compute dispatch: proves the device executes shaders, not just exists. */
  selfTest: { ok: boolean; detail: string };
}

export function describeAdapter(adapter: GPUAdapter): GpuCapabilities['adapter'] {
  const info = adapter.info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

export async function runComputeSelfTest(device: GPUDevice): Promise<GpuCapabilities['selfTest']> {
  const n = 257; // odd on purpose: exercises the bounds check
  const module = device.createShaderModule({
    code: /* wgsl */ `
      @group(0) @binding(0) var<storage, read_write> data: array<u32>;
      @compute @workgroup_size(64)
      fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x < arrayLength(&data)) { data[id.x] = id.x * 3u + 1u; }
      }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const storage = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: storage } }] }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(storage, 0, staging, 0, n * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    for (let i = 0; i < n; i++) {
      if (values[i] !== i * 3 + 1) return { ok: false, detail: `element ${i} is ${values[i]}, expected ${i * 3 + 1}` };
    }
    return { ok: true, detail: `${n} elements computed correctly` };
  } finally {
    storage.destroy();
    staging.destroy();
  }
}

export async function probeCapabilities(adapter: GPUAdapter, device: GPUDevice): Promise<GpuCapabilities> {
  const desc = describeAdapter(adapter);
  const text = `${desc.vendor} ${desc.architecture} ${desc.device} ${desc.description}`;
  return {
    adapter: desc,
    isSoftware: /swiftshader|llvmpipe|lavapipe|software/i.test(text),
    shaderF16: device.features.has('shader-f16'),
    features: [...device.features].sort(),
    limits: {
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
    },
    selfTest: await runComputeSelfTest(device),
  };
}

/** Requests a device with the adapter's maximum buffer limits and shader-f16 when available. */
export async function requestDeviceForModels(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  return adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
    },
  });
}
