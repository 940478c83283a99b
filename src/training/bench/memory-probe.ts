// Peak GPU memory of a run, from real allocations: every buffer the device creates while the probe
// is installed is counted until it is destroyed. GpuContext accounts only the buffers made through
// it (by category); the probe also sees the ones made on the device directly (uniform parameter
// buffers, MAP_READ staging for readbacks), so the total is every live buffer, not an estimate.
//
// It works by wrapping, on these two instances only, `device.createBuffer` (and each new buffer's
// `destroy`) and `ctx.createBuffer` (to label a new peak by category once the context has recorded
// the buffer). `dispose()` removes the wrappers.
//
// Not visible to it (and so not counted): pipelines and shader modules, bind groups, the driver's own
// staging for queue.writeBuffer, and allocation rounding inside the driver. A buffer dropped without
// destroy() stays counted (the count errs high, never low).
import type { GpuContext } from '../../engine/gpu/context';

// WebGPU usage flags (fixed by the spec), so this module needs no globals.
const MAP_READ = 0x01;
const UNIFORM = 0x40;

export interface MemorySnapshot {
  /** The GpuContext's categories (its memoryReport()). */
  weights: number;
  kv_cache: number;
  activations: number;
  lora: number;
  optimizer: number;
  scratch: number;
  /** Buffers created on the device directly: per-dispatch parameter uniforms and readback staging. */
  untracked_uniforms: number;
  untracked_readback: number;
  untracked_other: number;
  /** Every live buffer. */
  total: number;
}

type UntrackedKind = 'uniforms' | 'readback' | 'other';

export class GpuMemoryProbe {
  private readonly live = new Map<GPUBuffer, { bytes: number; kind: UntrackedKind }>();
  private liveBytes = 0;
  private peakSnapshot: MemorySnapshot;
  private readonly device: GPUDevice;

  constructor(private readonly ctx: GpuContext) {
    if (ctx.memoryReport().total !== 0) throw new Error('GpuMemoryProbe needs a fresh GpuContext (one with no buffers yet), or its totals would miss them');
    this.device = ctx.device;
    this.peakSnapshot = this.snapshot();
    const deviceCreate = this.device.createBuffer;
    const contextCreate = ctx.createBuffer;
    const probe = this;
    const wrapped = function (this: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
      const buffer = deviceCreate.call(this, descriptor);
      probe.added(buffer, descriptor.usage);
      return buffer;
    };
    Object.defineProperty(this.device, 'createBuffer', { value: wrapped, configurable: true, writable: true });
    const wrappedContext: GpuContext['createBuffer'] = function (this: GpuContext, ...args) {
      const buffer = contextCreate.apply(this, args);
      // The device-level hook saw this buffer before the context had recorded its category.
      if (probe.liveBytes === probe.peakSnapshot.total) probe.peakSnapshot = probe.snapshot();
      return buffer;
    };
    Object.defineProperty(ctx, 'createBuffer', { value: wrappedContext, configurable: true, writable: true });
  }

  private added(buffer: GPUBuffer, usage: number) {
    const kind: UntrackedKind = usage & UNIFORM ? 'uniforms' : usage & MAP_READ ? 'readback' : 'other';
    this.live.set(buffer, { bytes: buffer.size, kind });
    this.liveBytes += buffer.size;
    const destroy = buffer.destroy;
    const probe = this;
    Object.defineProperty(buffer, 'destroy', {
      value: function (this: GPUBuffer) {
        const entry = probe.live.get(buffer);
        if (entry) {
          probe.live.delete(buffer);
          probe.liveBytes -= entry.bytes;
        }
        return destroy.call(this);
      },
      configurable: true,
      writable: true,
    });
    if (this.liveBytes > this.peakSnapshot.total) this.peakSnapshot = this.snapshot();
  }

  /** Live memory now, by category. */
  snapshot(): MemorySnapshot {
    const r = this.ctx.memoryReport();
    const untracked = { uniforms: 0, readback: 0, other: 0 };
    for (const { bytes, kind } of this.live.values()) untracked[kind] += bytes;
    // Context buffers are 'other' by usage (storage); take them out of the untracked share.
    untracked.other -= r.total;
    return {
      weights: r.weights,
      kv_cache: r['kv-cache'],
      activations: r.activations,
      lora: r.lora,
      optimizer: r.optimizer,
      scratch: r.scratch,
      untracked_uniforms: untracked.uniforms,
      untracked_readback: untracked.readback,
      untracked_other: Math.max(0, untracked.other),
      total: this.liveBytes,
    };
  }

  /** Live memory at the moment the total was highest since the probe was installed. */
  get peak(): MemorySnapshot {
    return { ...this.peakSnapshot };
  }

  dispose() {
    delete (this.device as unknown as Record<string, unknown>).createBuffer;
    delete (this.ctx as unknown as Record<string, unknown>).createBuffer;
  }
}
