// Rotary position embedding in Qwen's rotate-half layout (HF apply_rotary_pos_emb): for each head
// vector x of head_dim d, with x1 = x[0..d/2), x2 = x[d/2..d):
//   out[i]       = x1[i] * cos[i] - x2[i] * sin[i]
//   out[i + d/2] = x2[i] * cos[i] + x1[i] * sin[i]
// where cos/sin are of angle[i] = position * inv_freq[i], inv_freq[i] = 1 / theta^(2i/d).
//
// Precision: Hugging Face computes inv_freq and the angle in f32, and position × inv_freq reaches
// tens of thousands of radians, where one f32 ULP of the angle is ~0.004 rad. Matching HF therefore
// means taking cos/sin of the *same f32 angle*, accurately. WGSL's cos/sin are only specified to
// 2^-11 absolute on [-π, π] and need range reduction beyond, so the engine precomputes a
// [maxPositions, d/2] table of (cos, sin) on the CPU: the angle is rounded to f32 exactly like HF
// (Math.fround at each step), then cos/sin are evaluated in f64 and rounded once.
//
// The kernel rotates in place: Q [tokens, heads, d] and K [tokens, kvHeads, d], or the Q and K
// parts of a fused QKV buffer via `offset` and `tokenStride`. Each token's position comes from a
// u32 buffer, so batched sequences at different positions share one dispatch.
// Positions >= table.maxPositions are left unrotated: the caller validates positions on the CPU
// (it writes the positions buffer) against the table it built for its context length.
import { ceilDiv, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;

export interface RopeConfig {
  headDim: number;
  theta: number;
  maxPositions: number;
}

export interface RopeTable extends RopeConfig {
  /** f32 [maxPositions, headDim / 2, 2]: (cos, sin) pairs. */
  buffer: GPUBuffer;
}

export interface RopeArgs {
  /** Rotated in place. */
  x: GPUBuffer;
  table: RopeTable;
  /** u32 [tokens]: the position of each token in its sequence. */
  positions: GPUBuffer;
  tokens: number;
  heads: number;
  /** Element offset of token 0, head 0; default 0. */
  offset?: number;
  /** Elements between consecutive tokens; default heads * headDim. */
  tokenStride?: number;
}

function checkConfig(config: RopeConfig) {
  const { headDim, theta, maxPositions } = config;
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw new Error(`rope: head_dim must be a positive even integer, got ${headDim}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`rope: rope_theta must be a positive finite number, got ${theta}`);
  if (!Number.isInteger(maxPositions) || maxPositions <= 0) throw new Error(`rope: maxPositions must be a positive integer, got ${maxPositions}`);
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

/** The (cos, sin) table, [maxPositions, headDim / 2, 2], from HF's f32 angles. */
export function ropeTableCpu(config: RopeConfig): Float32Array {
  checkConfig(config);
  const half = config.headDim / 2;
  const invFreq = ropeInvFreq(config.headDim, config.theta);
  const table = new Float32Array(config.maxPositions * half * 2);
  for (let p = 0; p < config.maxPositions; p++) {
    const position = Math.fround(p);
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(position * invFreq[i]);
      table[(p * half + i) * 2] = Math.cos(angle);
      table[(p * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return table;
}

/** Builds and uploads the table once per model (weights category: it is read-only model state). */
export function createRopeTable(ctx: GpuContext, config: RopeConfig): RopeTable {
  const data = ropeTableCpu(config);
  if (data.byteLength > ctx.maxBindingBytes) {
    throw new Error(`rope: a table for ${config.maxPositions} positions × head_dim ${config.headDim} needs ${data.byteLength} bytes, over the ${ctx.maxBindingBytes}-byte binding limit; use a shorter context`);
  }
  return { ...config, buffer: ctx.upload('rope-table', data, 'weights') };
}

export function ropeWgsl(headDim: number, heads: number, offset: number, tokenStride: number, maxPositions: number): string {
  const half = headDim / 2;
  return /* wgsl */ `
struct Params { tokens: u32 }
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<vec2f>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const HALF = ${half}u;
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
  let x1 = x[base];
  let x2 = x[base + HALF];
  x[base] = x1 * cs.x - x2 * cs.y;
  x[base + HALF] = x2 * cs.x + x1 * cs.y;
}`;
}

export function encodeRope(ctx: GpuContext, pass: GPUComputePassEncoder, args: RopeArgs) {
  const { table, tokens, heads } = args;
  const d = table.headDim;
  const offset = args.offset ?? 0;
  const tokenStride = args.tokenStride ?? heads * d;
  for (const [name, value] of Object.entries({ tokens, heads, offset, tokenStride })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`rope: ${name} must be a non-negative integer, got ${value}`);
  }
  if (heads === 0) throw new Error('rope: heads must be positive');
  if (tokenStride < heads * d) throw new Error(`rope: tokenStride ${tokenStride} is smaller than heads × head_dim = ${heads * d}`);
  const extent = tokens === 0 ? 0 : offset + (tokens - 1) * tokenStride + heads * d;
  if (args.x.size < extent * 4) throw new Error(`rope: x holds ${args.x.size / 4} f32 values but ${tokens} tokens × ${heads} heads reach ${extent}`);
  if (args.positions.size < tokens * 4) throw new Error(`rope: positions holds fewer than ${tokens} u32 values`);
  const pipeline = ctx.pipeline(ropeWgsl(d, heads, offset, tokenStride, table.maxPositions));
  const groups = ceilDiv(tokens * heads * (d / 2), WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  ctx.dispatch(pass, pipeline, [args.x, table.buffer, args.positions, ctx.params([tokens])], [x, ceilDiv(groups, x)]);
}

/** CPU reference: returns a rotated copy of `x` (same layout, untouched values copied). */
export function ropeCpu(
  x: Float32Array,
  positions: ArrayLike<number>,
  layout: { tokens: number; heads: number; offset?: number; tokenStride?: number },
  config: RopeConfig,
): Float32Array {
  checkConfig(config);
  const d = config.headDim;
  const half = d / 2;
  const offset = layout.offset ?? 0;
  const tokenStride = layout.tokenStride ?? layout.heads * d;
  const invFreq = ropeInvFreq(d, config.theta);
  const out = Float32Array.from(x);
  for (let t = 0; t < layout.tokens; t++) {
    const position = positions[t];
    if (position >= config.maxPositions) continue;
    for (let h = 0; h < layout.heads; h++) {
      const base = offset + t * tokenStride + h * d;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(Math.fround(position) * invFreq[i]);
        const c = Math.fround(Math.cos(angle));
        const s = Math.fround(Math.sin(angle));
        const x1 = x[base + i];
        const x2 = x[base + half + i];
        out[base + i] = x1 * c - x2 * s;
        out[base + half + i] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}
