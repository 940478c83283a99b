// Residual add: out[i] = a[i] + b[i] over `length` f32 values. `out` may alias `a` (in-place
// residual stream update), so the kernel reads before it writes at the same index.
import { ceilDiv, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;

export function residualAddWgsl(): string {
  return /* wgsl */ `
struct Params { length: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= params.length) { return; }
  a[i] = a[i] + b[i];
}`;
}

/** In-place a += b. Large lengths are spread over a 2-D grid of workgroups. */
export function encodeResidualAdd(ctx: GpuContext, pass: GPUComputePassEncoder, args: { a: GPUBuffer; b: GPUBuffer; length: number }) {
  if (args.a.size < args.length * 4 || args.b.size < args.length * 4) throw new Error(`residualAdd: buffers hold fewer than ${args.length} f32 values`);
  const groups = ceilDiv(args.length, WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  const y = ceilDiv(groups, x);
  ctx.dispatch(pass, ctx.pipeline(residualAddWgsl()), [args.a, args.b, ctx.params([args.length])], [x, y]);
}

export function residualAddCpu(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new Error(`residualAddCpu: lengths ${a.length} and ${b.length} differ`);
  return a.map((v, i) => v + b[i]);
}
