// Rotary position embedding in Qwen's rotate-half layout (HF apply_rotary_pos_emb), forward and
// backward. For each head vector x of head_dim d, with x1 = x[0..d/2), x2 = x[d/2..d), each pair
// (x1[i], x2[i]) is rotated by the angle θ_i = position · inv_freq[i], inv_freq[i] = 1 / theta^(2i/d):
//   forward:   y1 = x1·cos θ − x2·sin θ,   y2 = x2·cos θ + x1·sin θ.
// A rotation's Jacobian is the rotation itself, and its transpose is the rotation by −θ, so the
// backward is the same kernel with the sign of sin flipped (cos(−θ) = cos θ, sin(−θ) = −sin θ):
//   backward:  dx1 = dy1·cos θ + dy2·sin θ,   dx2 = dy2·cos θ − dy1·sin θ.
// It needs no saved activations. One WGSL template (`ropeWgsl(direction, …)`) serves both.
//
// Precision: Hugging Face computes inv_freq and the angle in f32, and position × inv_freq reaches
// tens of thousands of radians, where one f32 ULP of the angle is ~0.004 rad. Matching HF therefore
// means taking cos/sin of the *same f32 angle*, accurately. WGSL's cos/sin are only specified to
// 2^-11 absolute on [-π, π] and need range reduction beyond, so the engine precomputes a
// [maxPositions, d/2] table of (cos, sin) on the CPU: the angle is rounded to f32 exactly like HF
// (Math.fround at each step), then cos/sin are evaluated in f64 and rounded once.
//
// The kernel rotates in place: Q [tokens, heads, d] and K [tokens, kvHeads, d], or the Q and K
// parts of a fused QKV buffer (or of its gradient dQKV) via `offset` and `tokenStride`. Each
// token's position comes from a u32 buffer, so batched sequences at different positions share one
// dispatch. Positions >= table.maxPositions are left unrotated (the identity, whose transpose is
// the identity too): the caller validates positions on the CPU (it writes the positions buffer)
// against the table it built for its context length.
import { ceilDiv, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;

/** forward: rotate by +θ; backward: by −θ (the transpose, for gradients). */
export type RopeDirection = 'forward' | 'backward';
const SIN_SIGN: Record<RopeDirection, string> = { forward: '1.0', backward: '-1.0' };

export interface RopeConfig {
  headDim: number;
  theta: number;
  maxPositions: number;
}

export interface RopeTable extends RopeConfig {
  /** f32 [maxPositions, headDim / 2, 2]: (cos, sin) pairs. */
  buffer: GPUBuffer;
}

/** Where the head vectors sit in the rotated buffer. */
export interface RopeLayout {
  tokens: number;
  heads: number;
  /** Element offset of token 0, head 0; default 0. */
  offset?: number;
  /** Elements between consecutive tokens; default heads * headDim. */
  tokenStride?: number;
}

interface RopeBindings extends RopeLayout {
  table: RopeTable;
  /** u32 [tokens]: the position of each token in its sequence (the same buffer in both directions). */
  positions: GPUBuffer;
}

export interface RopeArgs extends RopeBindings {
  /** Rotated in place. */
  x: GPUBuffer;
}

export interface RopeBackwardArgs extends RopeBindings {
  /** Gradient of the rotated output; rewritten in place with the gradient of the input. */
  dY: GPUBuffer;
}

function checkConfig(config: RopeConfig) {
  const { headDim, theta, maxPositions } = config;
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new Error(`rope: head_dim must be a positive even integer, got ${headDim}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`rope: rope_theta must be a positive finite number, got ${theta}`);
  if (!Number.isInteger(maxPositions) || maxPositions <= 0) throw new Error(`rope: maxPositions must be a positive integer, got ${maxPositions}`);
}

/** Validates a layout; `op` names the caller in errors. Returns it resolved, with its extent. */
function resolveLayout(op: string, layout: RopeLayout, headDim: number) {
  const { tokens, heads } = layout;
  const offset = layout.offset ?? 0;
  const tokenStride = layout.tokenStride ?? heads * headDim;
  for (const [name, value] of Object.entries({ tokens, heads, offset, tokenStride })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${op}: ${name} must be a non-negative integer, got ${value}`);
  }
  if (heads === 0) throw new Error(`${op}: heads must be positive`);
  if (tokenStride < heads * headDim) throw new Error(`${op}: tokenStride ${tokenStride} is smaller than heads × head_dim = ${heads * headDim}`);
  /** Elements the view reaches (one past the last value touched). */
  const extent = tokens === 0 ? 0 : offset + (tokens - 1) * tokenStride + heads * headDim;
  return { tokens, heads, offset, tokenStride, extent };
}

/** inv_freq exactly as HF computes it in f32: 1 / theta ** (arange(0, d, 2).float() / d). */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / headDim);
    out[i] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  return out;
}

/** (cos, sin) of HF's f32 angle for one position, each rounded once to f32: [c0, s0, c1, s1, …]. */
function cosSinRow(position: number, invFreq: Float32Array): Float32Array {
  const row = new Float32Array(invFreq.length * 2);
  for (let i = 0; i < invFreq.length; i++) {
    const angle = Math.fround(Math.fround(position) * invFreq[i]);
    row[2 * i] = Math.cos(angle);
    row[2 * i + 1] = Math.sin(angle);
  }
  return row;
}

/** The (cos, sin) table, [maxPositions, headDim / 2, 2], from HF's f32 angles. */
export function ropeTableCpu(config: RopeConfig): Float32Array {
  checkConfig(config);
  const half = config.headDim / 2;
  const invFreq = ropeInvFreq(config.headDim, config.theta);
  const table = new Float32Array(config.maxPositions * half * 2);
  for (let p = 0; p < config.maxPositions; p++) table.set(cosSinRow(p, invFreq), p * half * 2);
  return table;
}

/** Builds and uploads the table once per model (weights category: it is read-only model state). */
export function createRopeTable(ctx: GpuContext, config: RopeConfig): RopeTable {
  const data = ropeTableCpu(config);
  if (data.byteLength > ctx.maxBindingBytes) {
    throw new Error(
      `rope: a table for ${config.maxPositions} positions × head_dim ${config.headDim} needs ${data.byteLength} bytes, over the ${ctx.maxBindingBytes}-byte binding limit; use a shorter context`,
    );
  }
  return { ...config, buffer: ctx.upload('rope-table', data, 'weights') };
}

/** One thread per (token, head, pair i); `direction` only sets the sign applied to sin. */
export function ropeWgsl(direction: RopeDirection, headDim: number, heads: number, offset: number, tokenStride: number, maxPositions: number): string {
  return /* wgsl */ `
struct Params { tokens: u32 }
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2f>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const HALF = ${headDim / 2}u;
const HEAD_DIM = ${headDim}u;
const HEADS = ${heads}u;
const OFFSET = ${offset}u;
const TOKEN_STRIDE = ${tokenStride}u;
const MAX_POSITIONS = ${maxPositions}u;
// ±1: multiplying by it is exact, so both directions round exactly as a hand-written kernel would.
const SIN_SIGN = ${SIN_SIGN[direction]};

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
  let sn = SIN_SIGN * cs.y;
  let base = OFFSET + token * TOKEN_STRIDE + head * HEAD_DIM + i;
  let x1 = x[base];
  let x2 = x[base + HALF];
  x[base] = x1 * cs.x - x2 * sn;
  x[base + HALF] = x2 * cs.x + x1 * sn;
}`;
}

function encodeRotation(
  ctx: GpuContext,
  pass: GPUComputePassEncoder,
  direction: RopeDirection,
  target: { buffer: GPUBuffer; name: string },
  args: RopeBindings,
) {
  const op = direction === 'forward' ? 'rope' : 'ropeBackward';
  const { table } = args;
  const d = table.headDim;
  const l = resolveLayout(op, args, d);
  if (target.buffer.size < l.extent * 4)
    throw new Error(`${op}: ${target.name} holds ${target.buffer.size / 4} f32 values but ${l.tokens} tokens × ${l.heads} heads reach ${l.extent}`);
  if (args.positions.size < l.tokens * 4) throw new Error(`${op}: positions holds fewer than ${l.tokens} u32 values`);
  const pipeline = ctx.pipeline(ropeWgsl(direction, d, l.heads, l.offset, l.tokenStride, table.maxPositions));
  const groups = ceilDiv(l.tokens * l.heads * (d / 2), WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(pass, pipeline, [target.buffer, table.buffer, args.positions, ctx.params([l.tokens])], [x, ceilDiv(groups, x)]);
}

/** Records the forward rotation of `x` in place. */
export function encodeRope(ctx: GpuContext, pass: GPUComputePassEncoder, args: RopeArgs) {
  encodeRotation(ctx, pass, 'forward', { buffer: args.x, name: 'x' }, args);
}

/** Records the backward: dY rotated by −θ in place (same table, positions and layout as the forward). */
export function encodeRopeBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: RopeBackwardArgs) {
  encodeRotation(ctx, pass, 'backward', { buffer: args.dY, name: 'dY' }, args);
}

/**
 * CPU reference of either direction in f64 with the GPU's (cos, sin) values: returns a copy of
 * `values` (same layout, values outside the view copied) with each pair rotated by ±θ.
 */
export function ropeRotateCpu(
  values: ArrayLike<number>,
  positions: ArrayLike<number>,
  layout: RopeLayout,
  config: RopeConfig,
  direction: RopeDirection,
): Float64Array {
  checkConfig(config);
  const op = direction === 'forward' ? 'ropeCpu' : 'ropeBackwardCpu';
  const d = config.headDim;
  const half = d / 2;
  const l = resolveLayout(op, layout, d);
  if (values.length < l.extent) throw new Error(`${op}: the input holds ${values.length} values but the layout reaches ${l.extent}`);
  if (positions.length < l.tokens) throw new Error(`${op}: ${positions.length} positions for ${l.tokens} tokens`);
  const sign = direction === 'forward' ? 1 : -1;
  const invFreq = ropeInvFreq(d, config.theta);
  const out = Float64Array.from(values);
  for (let t = 0; t < l.tokens; t++) {
    const position = positions[t];
    if (position >= config.maxPositions) continue;
    const cs = cosSinRow(position, invFreq);
    for (let h = 0; h < l.heads; h++) {
      const base = l.offset + t * l.tokenStride + h * d;
      for (let i = 0; i < half; i++) {
        const c = cs[2 * i];
        const s = sign * cs[2 * i + 1];
        const x1 = values[base + i];
        const x2 = values[base + half + i];
        out[base + i] = x1 * c - x2 * s;
        out[base + half + i] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}

/** Forward CPU reference, rounded once to f32 like the GPU's storage (the CPU model uses it). */
export function ropeCpu(x: Float32Array, positions: ArrayLike<number>, layout: RopeLayout, config: RopeConfig): Float32Array {
  return Float32Array.from(ropeRotateCpu(x, positions, layout, config, 'forward'));
}

/** Backward CPU reference in f64: dY rotated by −θ. */
export function ropeBackwardCpu(dY: ArrayLike<number>, positions: ArrayLike<number>, layout: RopeLayout, config: RopeConfig): Float64Array {
  return ropeRotateCpu(dY, positions, layout, config, 'backward');
}
