// SwiGLU of Qwen2MLP / Qwen3MLP: out = silu(gate) * up, with silu(x) = x * sigmoid(x), over
// [tokens, intermediate] f32 values. The result feeds down_proj.
//
// Two input layouts:
//   - separate: `gate` and `up` are both [tokens, intermediate];
//   - fused (omit `up`): `gate` is [tokens, 2 * intermediate] holding gate in the first
//     `intermediate` columns and up in the last ones (the output of one matmul against the
//     gate_proj and up_proj weights stacked by rows).
// `out` is always a separate contiguous [tokens, intermediate] buffer.
import { ceilDiv, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;

export interface SwigluArgs {
  gate: GPUBuffer;
  /** Omit when `gate` is the fused [tokens, 2 * intermediate] buffer. */
  up?: GPUBuffer;
  out: GPUBuffer;
  tokens: number;
  intermediate: number;
}

export function swigluWgsl(intermediate: number, fused: boolean): string {
  const upBinding = fused ? '' : '@group(0) @binding(3) var<storage, read> up: array<f32>;';
  const load = fused
    ? `let row = i / INTERMEDIATE;
  let col = i - row * INTERMEDIATE;
  let g = gate[row * 2u * INTERMEDIATE + col];
  let u = gate[row * 2u * INTERMEDIATE + INTERMEDIATE + col];`
    : `let g = gate[i];
  let u = up[i];`;
  return /* wgsl */ `
struct Params { length: u32 }
@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${upBinding}

const INTERMEDIATE = ${intermediate}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= params.length) { return; }
  ${load}
  // x / (1 + exp(-x)): for very negative x, exp overflows to +inf and the quotient is -0 (the limit).
  out[i] = (g / (1.0 + exp(-g))) * u;
}`;
}

export function encodeSwiglu(ctx: GpuContext, pass: GPUComputePassEncoder, args: SwigluArgs) {
  const { tokens, intermediate } = args;
  if (!Number.isInteger(tokens) || tokens < 0 || !Number.isInteger(intermediate) || intermediate <= 0) {
    throw new Error(`swiglu: tokens (${tokens}) and intermediate (${intermediate}) must be integers, intermediate positive`);
  }
  const length = tokens * intermediate;
  const fused = !args.up;
  if (args.gate.size < length * (fused ? 2 : 1) * 4)
    throw new Error(`swiglu: ${fused ? 'fused gate/up' : 'gate'} buffer holds fewer than ${length * (fused ? 2 : 1)} f32 values`);
  if (args.up && args.up.size < length * 4) throw new Error(`swiglu: up holds fewer than ${length} f32 values`);
  if (args.out.size < length * 4) throw new Error(`swiglu: out holds fewer than ${length} f32 values`);
  if (args.out === args.gate || args.out === args.up) throw new Error('swiglu: out must be a separate buffer from gate and up');
  const bindings = [args.gate, args.out, ctx.params([length])];
  if (args.up) bindings.push(args.up);
  const groups = ceilDiv(length, WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(pass, ctx.pipeline(swigluWgsl(intermediate, fused)), bindings, [x, ceilDiv(groups, x)]);
}

/** CPU reference for separate gate/up arrays of equal length. */
export function swigluCpu(gate: Float32Array, up: Float32Array): Float32Array {
  if (gate.length !== up.length) throw new Error(`swigluCpu: gate (${gate.length}) and up (${up.length}) lengths differ`);
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
}
