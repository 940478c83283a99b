// SwiGLU backward (the forward is src/engine/ops/swiglu.ts): out = silu(g) · u with
// silu(g) = g·σ(g), so for each element
//   dGate = dOut · u · silu'(g),  silu'(g) = σ(g) · (1 + g · (1 − σ(g)))
//   dUp   = dOut · silu(g)
// Inputs are the saved gate/up activations, separate [tokens, I] or fused [tokens, 2I] (gate
// columns first) exactly like the forward. The result is ALWAYS the fused [tokens, 2I] layout
// (dGate in the first I columns, dUp in the last I) because that is the gradient of the fused
// gateUp projection output, so it feeds the gate/up matmul and LoRA backward directly.
//
// Memory: with fused inputs, omit `dGateUp` to overwrite the saved gateUp buffer in place (it is
// dead once its layer's backward ran); each thread reads g and u and writes the same two slots.
import { ceilDiv, type GpuContext } from '../../engine/gpu/context';

const WORKGROUP = 256;

export interface SwigluBackwardArgs {
  /** Saved gate [tokens, I], or the fused [tokens, 2I] gate/up buffer when `up` is omitted. */
  gate: GPUBuffer;
  /** Saved up [tokens, I]; omit when `gate` is fused. */
  up?: GPUBuffer;
  /** Gradient of the SwiGLU output, [tokens, I]. */
  dOut: GPUBuffer;
  /** f32 [tokens, 2I] receiving [dGate | dUp]; omit (fused input only) to overwrite `gate`. */
  dGateUp?: GPUBuffer;
  tokens: number;
  intermediate: number;
}

type Mode = 'fused-in-place' | 'fused' | 'separate';

export function swigluBackwardWgsl(intermediate: number, mode: Mode): string {
  const inPlace = mode === 'fused-in-place';
  const load =
    mode === 'separate'
      ? `let g = gate[i];
  let u = up[i];`
      : `let g = gate[gi];
  let u = gate[gi + INTERMEDIATE];`;
  const target = inPlace ? 'gate' : 'dGateUp';
  const extra = inPlace
    ? ''
    : `@group(0) @binding(3) var<storage, read_write> dGateUp: array<f32>;
${mode === 'separate' ? '@group(0) @binding(4) var<storage, read> up: array<f32>;' : ''}`;
  return /* wgsl */ `
struct Params { length: u32 }
@group(0) @binding(0) var<storage, ${inPlace ? 'read_write' : 'read'}> gate: array<f32>;
@group(0) @binding(1) var<storage, read> dOut: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${extra}

const INTERMEDIATE = ${intermediate}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= params.length) { return; }
  let row = i / INTERMEDIATE;
  // Index of the gate value in the fused [tokens, 2I] layout; the up value is INTERMEDIATE later.
  let gi = i + row * INTERMEDIATE;
  ${load}
  let d = dOut[i];
  // σ(g) = 1 / (1 + exp(−g)): exp overflows to +inf for very negative g and σ → 0, its limit;
  // then silu' = 0 · (1 + g) is ±0, also the limit (g·σ(g)(1−σ(g)) → 0 faster than g grows).
  let s = 1.0 / (1.0 + exp(-g));
  let silu = g * s;
  let dsilu = s * (1.0 + g * (1.0 - s));
  ${target}[gi] = d * u * dsilu;
  ${target}[gi + INTERMEDIATE] = d * silu;
}`;
}

export function encodeSwigluBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: SwigluBackwardArgs) {
  const { tokens, intermediate } = args;
  if (!Number.isInteger(tokens) || tokens < 0 || !Number.isInteger(intermediate) || intermediate <= 0) {
    throw new Error(`swigluBackward: tokens (${tokens}) and intermediate (${intermediate}) must be integers, intermediate positive`);
  }
  const length = tokens * intermediate;
  const fused = !args.up;
  if (args.gate.size < length * (fused ? 2 : 1) * 4)
    throw new Error(`swigluBackward: ${fused ? 'fused gate/up' : 'gate'} buffer holds fewer than ${length * (fused ? 2 : 1)} f32 values`);
  if (args.up && args.up.size < length * 4) throw new Error(`swigluBackward: up holds fewer than ${length} f32 values`);
  if (args.dOut.size < length * 4) throw new Error(`swigluBackward: dOut holds fewer than ${length} f32 values`);
  if (args.dGateUp && args.dGateUp.size < 2 * length * 4)
    throw new Error(`swigluBackward: dGateUp holds fewer than ${2 * length} f32 values (tokens × 2 × intermediate)`);
  if (!args.dGateUp && !fused) throw new Error('swigluBackward: in-place output needs the fused gate/up input; pass dGateUp for separate gate and up');
  if (args.dGateUp === args.gate) throw new Error('swigluBackward: for in-place operation omit `dGateUp` instead of passing gate');
  if (args.dOut === args.gate || args.dOut === args.up || (args.dGateUp && (args.dGateUp === args.up || args.dGateUp === args.dOut))) {
    throw new Error('swigluBackward: dOut, dGateUp and the saved gate/up must be separate buffers');
  }
  const mode: Mode = !args.dGateUp ? 'fused-in-place' : fused ? 'fused' : 'separate';
  const bindings = [args.gate, args.dOut, ctx.params([length])];
  if (args.dGateUp) bindings.push(args.dGateUp);
  if (args.up) bindings.push(args.up);
  const groups = ceilDiv(length, WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(pass, ctx.pipeline(swigluBackwardWgsl(intermediate, mode)), bindings, [x, ceilDiv(groups, x)]);
}

/** CPU reference in f64 for separate gate/up [tokens, I]; returns the fused [tokens, 2I] [dGate | dUp]. */
export function swigluBackwardCpu(gate: ArrayLike<number>, up: ArrayLike<number>, dOut: ArrayLike<number>, intermediate: number): Float64Array {
  if (gate.length !== up.length || gate.length !== dOut.length) {
    throw new Error(`swigluBackwardCpu: gate (${gate.length}), up (${up.length}) and dOut (${dOut.length}) lengths differ`);
  }
  if (!Number.isInteger(intermediate) || intermediate <= 0 || gate.length % intermediate !== 0) {
    throw new Error(`swigluBackwardCpu: ${gate.length} values are not rows of intermediate ${intermediate}`);
  }
  const out = new Float64Array(2 * gate.length);
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i];
    const s = 1 / (1 + Math.exp(-g));
    const row = Math.floor(i / intermediate);
    const gi = i + row * intermediate;
    out[gi] = dOut[i] * up[i] * s * (1 + g * (1 - s));
    out[gi + intermediate] = dOut[i] * g * s;
  }
  return out;
}
