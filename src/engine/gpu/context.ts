// GpuContext: the engine's handle on one GPUDevice. It owns three caches that keep the hot path
// (one decode step) free of allocation:
//   - compute pipelines, keyed by WGSL source (static shapes are baked into the source);
//   - small uniform buffers holding per-dispatch parameters, keyed by their contents, so the same
//     parameters on every decode step reuse the same buffer;
//   - bind groups, keyed by pipeline + bound buffers.
// It also accounts every buffer it creates by category, for the memory report.

export type MemoryCategory = 'weights' | 'kv-cache' | 'activations' | 'lora' | 'optimizer' | 'scratch';

export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

// Numeric WebGPU flag values (fixed by the spec), so importing this module needs no globals.
const USAGE = { MAP_READ: 0x01, COPY_SRC: 0x04, COPY_DST: 0x08, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_MODE_READ = 0x01;
const STORAGE_USAGE = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
const UNIFORM_USAGE = USAGE.UNIFORM | USAGE.COPY_DST;

export class GpuContext {
  readonly shaderF16: boolean;
  readonly maxBindingBytes: number;
  /**
   * The device is a CPU emulation of a GPU (SwiftShader, llvmpipe, lavapipe), where a workgroup
   * barrier costs far more than the arithmetic it orders (SwiftShader runs a workgroup containing
   * one as coroutines): decode kernels then pick their barrier-free variants, which compute the
   * same values.
   */
  readonly preferBarrierFree: boolean;
  private pipelines = new Map<string, GPUComputePipeline>();
  private uniforms = new Map<string, GPUBuffer>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private objectIds = new WeakMap<object, number>();
  private nextObjectId = 1;
  private tracked = new Map<GPUBuffer, { category: MemoryCategory; bytes: number }>();
  /** Dispatches recorded since the last reset: the benchmark reports dispatches per token. */
  dispatchCount = 0;

  constructor(readonly device: GPUDevice) {
    this.shaderF16 = device.features.has('shader-f16');
    this.maxBindingBytes = device.limits.maxStorageBufferBindingSize;
    this.preferBarrierFree = isSoftwareAdapter(device.adapterInfo);
  }

  /** A storage buffer (read/write, copyable), rounded up to 4 bytes, accounted under `category`. */
  createBuffer(label: string, byteLength: number, category: MemoryCategory, extraUsage = 0): GPUBuffer {
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    const buffer = this.device.createBuffer({ label, size, usage: STORAGE_USAGE | extraUsage });
    this.tracked.set(buffer, { category, bytes: size });
    return buffer;
  }

  /** Creates a storage buffer and uploads `data` into it. */
  upload(label: string, data: ArrayBufferView, category: MemoryCategory): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength, category);
    this.write(buffer, data);
    return buffer;
  }

  /** Writes `data` at `offset`, padding to the 4-byte multiple that writeBuffer requires. */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0) {
    let bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4 !== 0) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    this.device.queue.writeBuffer(buffer, offset, bytes);
  }

  destroy(buffer: GPUBuffer) {
    this.tracked.delete(buffer);
    buffer.destroy();
  }

  memoryReport(): Record<MemoryCategory, number> & { total: number } {
    const report = { weights: 0, 'kv-cache': 0, activations: 0, lora: 0, optimizer: 0, scratch: 0, total: 0 };
    for (const { category, bytes } of this.tracked.values()) {
      report[category] += bytes;
      report.total += bytes;
    }
    return report;
  }

  pipeline(code: string, entryPoint = 'main'): GPUComputePipeline {
    const key = `${entryPoint}\u0000${code}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const module = this.device.createShaderModule({ code });
      pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint } });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** A uniform buffer with these 32-bit words (u32, or f32 passed through `f32Bits`). Cached by value. */
  params(words: number[]): GPUBuffer {
    const padded = words.length % 4 === 0 && words.length > 0 ? words : [...words, ...new Array(4 - (words.length % 4)).fill(0)];
    const key = padded.join(',');
    let buffer = this.uniforms.get(key);
    if (!buffer) {
      buffer = this.device.createBuffer({ label: `params(${key})`, size: padded.length * 4, usage: UNIFORM_USAGE });
      this.device.queue.writeBuffer(buffer, 0, new Uint32Array(padded));
      this.uniforms.set(key, buffer);
    }
    return buffer;
  }

  private idOf(object: object): number {
    let id = this.objectIds.get(object);
    if (id === undefined) {
      id = this.nextObjectId++;
      this.objectIds.set(object, id);
    }
    return id;
  }

  /**
   * Records one dispatch into `pass`. Bindings are given in @binding order for @group(0);
   * a GPUBuffer binds whole, a BufferBinding binds a range.
   */
  dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, bindings: (GPUBuffer | BufferBinding)[], workgroups: [number, number?, number?]) {
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const limit = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > limit || y > limit || z > limit) throw new Error(`dispatch of ${x}×${y}×${z} workgroups exceeds the device limit of ${limit} per dimension`);
    const normalized = bindings.map((b) => ('buffer' in b ? b : { buffer: b }) as BufferBinding);
    const key = `${this.idOf(pipeline)}|${normalized.map((b) => `${this.idOf(b.buffer)}:${b.offset ?? 0}:${b.size ?? -1}`).join(',')}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: normalized.map((b, i) => ({ binding: i, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } })),
      });
      this.bindGroups.set(key, group);
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
  }

  /** Forget cached bind groups that mention destroyed buffers (call after freeing activations). */
  clearBindGroups() {
    this.bindGroups.clear();
  }

  /** Reads a buffer range back to the CPU. Only for results (token ids, logits on request), never per layer. */
  async read(buffer: GPUBuffer, byteLength = buffer.size, offset = 0): Promise<ArrayBuffer> {
    const staging = this.device.createBuffer({ size: Math.ceil(byteLength / 4) * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, Math.ceil(byteLength / 4) * 4);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    const copy = staging.getMappedRange().slice(0, byteLength);
    staging.unmap();
    staging.destroy();
    return copy;
  }
}

/** True for adapters that run shaders on the CPU (by the names Dawn and browsers report). */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> | undefined): boolean {
  if (!info) return false;
  return /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

/** Reinterprets an f32 as its u32 bit pattern, for `GpuContext.params`. */
export function f32Bits(value: number): number {
  const scratch = new Float32Array([value]);
  return new Uint32Array(scratch.buffer)[0];
}

/** ceil(a / b) for dispatch sizes. */
export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}
