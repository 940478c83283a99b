// RoPE backward (the forward is src/engine/ops/rope.ts). The forward rotates each pair
// (x1[i], x2[i]) = (x[i], x[i + d/2]) by the angle θ = position · inv_freq[i]:
//   y1 = x1·cos − x2·sin,   y2 = x2·cos + x1·sin.
// A rotation's Jacobian is the rotation itself, so the gradient is the transpose — a rotation
// by −θ, with the same (cos, sin) table:
//   dx1 = dy1·cos + dy2·sin,   dx2 = dy2·cos − dy1·sin.
// It needs no saved activations. The kernel rewrites dY in place through the forward's layout
// (Q/K buffers, or the Q and K gradients of a fused dQKV buffer via offset and tokenStride).
// Positions >= table.maxPositions are left unrotated, matching the forward (where they are the
// identity, so the identity is also their transpose).
import { ceilDiv, type GpuContext } from '../../engine/gpu/context';
import { ropeTableCpu, type RopeConfig, type RopeTable } from '../../engine/ops/rope';

const WORKGROUP = 256;

export interface RopeBackwardArgs {
  /** Gradient of the rotated output; rewritten in place with the gradient of the input. */
  dY: GPUBuffer;
  table: RopeTable;
  /** u32 [tokens]: each token's position (the same buffer the forward used). */
  positions: GPUBuffer;
  tokens: number;
  heads: number;
  /** Element offset of token 0, head 0; default 0. */
  offset?: number;
  /** Elements between consecutive tokens; default heads * headDim. */
  tokenStride?: number;
}

export interface RopeLayout {
  tokens: number;
  heads: number;
  offset?: number;
  tokenStride?: number;
}

function resolveLayout(layout: RopeLayout, headDim: number) {
  const offset = layout.offset ?? 0;
  const tokenStride = layout.tokenStride ?? layout.heads * headDim;
  const { tokens, heads } = layout;
  for (const [name, value] of Object.entries({ tokens, heads, offset, tokenStride })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`ropeBackward: ${name} must be a non-negative integer, got ${value}`);
  }
  if (heads === 0) throw new Error('ropeBackward: heads must be positive');
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new Error(`ropeBackward: head_dim must be a positive even integer, got ${headDim}`);
  if (tokenStride < heads * headDim) throw new Error(`ropeBackward: tokenStride ${tokenStride} is smaller than heads × head_dim = ${heads * headDim}`);
  const extent = tokens === 0 ? 0 : offset + (tokens - 1) * tokenStride + heads * headDim;
  return { tokens, heads, offset, tokenStride, extent };
}

export function ropeBackwardWgsl(headDim: number, heads: number, offset: number, tokenStride: number, maxPositions: number): string {
  return /* wgsl */ `
struct Params { tokens: u32 }
@group(0) @binding(0) var<storage, read_write> dy: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2f>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const HALF = ${headDim / 2}u;
const HEAD_DIM = ${headDim}u;
const HEADS = ${heads}u;
const OFFSET = ${offset}u;
const TOKEN_STRIDE = ${tokenStride}u;
const MAX_POSITIONS = ${maxPositions}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (index >= params.tokens * HEADS * HALF) { return; }
  let i = index % HALF;
  let head = (index / HALF) % HEADS;
  let token = index / (HALF * HEADS);
  let position = positions[token];
  if (position >= MAX_POSITIONS) { return; }
  let cs = table[position * HALF + i];
  let base = OFFSET + token * TOKEN_STRIDE + head * HEAD_DIM + i;
  let g1 = dy[base];
  let g2 = dy[base + HALF];
  dy[base] = g1 * cs.x + g2 * cs.y;
  dy[base + HALF] = g2 * cs.x - g1 * cs.y;
}`;
}

export function encodeRopeBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: RopeBackwardArgs) {
  const { table } = args;
  const d = table.headDim;
  const l = resolveLayout(args, d);
  if (args.dY.size < l.extent * 4) throw new Error(`ropeBackward: dY holds ${args.dY.size / 4} f32 values but ${l.tokens} tokens × ${l.heads} heads reach ${l.extent}`);
  if (args.positions.size < l.tokens * 4) throw new Error(`ropeBackward: positions holds fewer than ${l.tokens} u32 values`);
  const pipeline = ctx.pipeline(ropeBackwardWgsl(d, l.heads, l.offset, l.tokenStride, table.maxPositions));
  const groups = ceilDiv(l.tokens * l.heads * (d / 2), WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(pass, pipeline, [args.dY, table.buffer, args.positions, ctx.params([l.tokens])], [x, ceilDiv(groups, x)]);
}

/**
 * CPU reference in f64 with the GPU's (cos, sin) table: returns a copy of dY (same layout, values
 * outside the view copied) with each pair rotated by −θ.
 */
export function ropeBackwardCpu(dY: ArrayLike<number>, positions: ArrayLike<number>, layout: RopeLayout, config: RopeConfig): Float64Array {
  const d = config.headDim;
  const l = resolveLayout(layout, d);
  if (dY.length < l.extent) throw new Error(`ropeBackwardCpu: dY holds ${dY.length} values but the layout reaches ${l.extent}`);
  if (positions.length < l.tokens) throw new Error(`ropeBackwardCpu: ${positions.length} positions for ${l.tokens} tokens`);
  const table = ropeTableCpu(config);
  const half = d / 2;
  const out = Float64Array.from(dY);
  for (let t = 0; t < l.tokens; t++) {
    const position = positions[t];
    if (position >= config.maxPositions) continue;
    for (let h = 0; h < l.heads; h++) {
      const base = l.offset + t * l.tokenStride + h * d;
      for (let i = 0; i < half; i++) {
        const c = table[(position * half + i) * 2];
        const s = table[(position * half + i) * 2 + 1];
        const g1 = dY[base + i];
        const g2 = dY[base + half + i];
        out[base + i] = g1 * c + g2 * s;
        out[base + half + i] = g2 * c - g1 * s;
      }
    }
  }
  return out;
}
