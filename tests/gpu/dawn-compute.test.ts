import { describe, expect, it } from 'vitest';
import { getTestDevice, readBuffer } from '../helpers/gpu';

describe('Dawn compute (Node WebGPU)', () => {
  it('runs a compute shader on a real GPUDevice over an odd-sized buffer', async () => {
    const { device, description } = await getTestDevice();
    expect(description.length).toBeGreaterThan(0);
    const n = 1000; // not a multiple of the workgroup size (64)
    const input = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 17);
    const buffer = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, input);
    const module = device.createShaderModule({
      code: /* wgsl */ `
        @group(0) @binding(0) var<storage, read_write> values: array<f32>;
        @compute @workgroup_size(64)
        fn main(@builtin(global_invocation_id) id: vec3u) {
          if (id.x < arrayLength(&values)) { values[id.x] = values[id.x] * values[id.x] + 1.0; }
        }`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    device.queue.submit([encoder.finish()]);
    const out = new Float32Array(await readBuffer(device, buffer));
    for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(input[i] * input[i] + 1, 3);
  });
});
