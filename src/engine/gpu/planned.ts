// Creates a buffer from its size-table entry (model/buffer-plan.ts): a tracked storage buffer of
// the entry's memory category, or a direct uniform / MAP_READ buffer. The entry's bytes are the
// buffer's size exactly, so the plan's sum is the allocation.
import type { PlannedBuffer } from '../model/buffer-plan';
import type { GpuContext } from './context';

// WebGPU flag values (fixed by the spec), so this module needs no globals.
const MAP_READ = 0x01;
const COPY_DST = 0x08;
const UNIFORM = 0x40;

export function createPlanned(ctx: GpuContext, entry: PlannedBuffer): GPUBuffer {
  if (entry.kind === 'readback') return ctx.device.createBuffer({ label: entry.name, size: entry.bytes, usage: MAP_READ | COPY_DST });
  if (entry.kind === 'uniform') return ctx.device.createBuffer({ label: entry.name, size: entry.bytes, usage: UNIFORM | COPY_DST });
  const buffer = ctx.createBuffer(entry.name, entry.bytes, entry.kind);
  if (buffer.size !== entry.bytes) throw new Error(`${entry.name}: planned ${entry.bytes} bytes, allocated ${buffer.size}`);
  return buffer;
}
