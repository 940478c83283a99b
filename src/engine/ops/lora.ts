// LoRA forward and backward on the GPU (PEFT semantics), recorded into the caller's compute pass
// next to the frozen base matmul.
//
// For a Linear W [N, K] with lora_A [r, K], lora_B [N, r] and scaling s = lora_alpha / r:
//   forward   u = x·Aᵀ [M, r] (kept for backward);  y[:, slice] += s · u·Bᵀ
//   backward  dB += s · dYᵀ·u   du = s · dY·B   dA += duᵀ·x   dX += du·A
// (the base path dX += dY·W is matmul-backward.ts). y / dY may be a column slice of a wider fused
// output: the q, k and v adapters write columns [0, nH·d), [nH·d, (nH+nKv)·d), [(nH+nKv)·d, …) of
// the fused qkv rows, gate/up the two halves of gateUp; `rowStride` is the fused width and
// `colOffset` the slice start. dA and dB ACCUMULATE so micro-batches add up (zero them per step).
//
// Skipping LoRA (the frozen reference policy for the KL term) needs no switch: do not call
// encodeLoraForward, and the base matmul's output is the reference model's.
//
// Every product is one dispatch of the strided GEMM in lora-gemm.ts; the forward is 2 dispatches,
// the backward 4 (dB, du, then dA and dX which read du). Dispatches within one compute pass are
// ordered, so the caller needs no barriers.
import type { GpuContext } from '../gpu/context';
import { encodeLoraGemm, type StridedView } from './lora-gemm';

/** One module's adapter on the GPU: A [rank, inFeatures], B [outFeatures, rank], contiguous f32. */
export interface LoraModuleBuffers {
  name: string;
  a: GPUBuffer;
  b: GPUBuffer;
  rank: number;
  /** K. */
  inFeatures: number;
  /** N (of this module, not of the fused output). */
  outFeatures: number;
  /** lora_alpha / rank. */
  scaling: number;
}

/**
 * x row r is row `offset + r·stride` of a [*, K] buffer (as encodeMatmul's xRows); default 0 / 1.
 * encodeMatmul's index-buffer rows are not offered: training runs full sequences, never a gather.
 */
export interface LoraXRows {
  offset: number;
  stride: number;
}

/** A column slice of a fused [M, rowStride] output: this module's columns start at colOffset. */
export interface LoraSlice {
  rowStride: number;
  colOffset: number;
}

export interface LoraForwardArgs {
  lora: LoraModuleBuffers;
  x: GPUBuffer;
  xRows?: LoraXRows;
  m: number;
  /** Written: u = x·Aᵀ, contiguous f32 [m, rank]; keep it for backward. */
  u: GPUBuffer;
  /** Added to: y[row, colOffset + n] += s · (u·Bᵀ)[row, n]. */
  y: GPUBuffer;
  ySlice?: LoraSlice;
}

export interface LoraBackwardArgs {
  lora: LoraModuleBuffers;
  /** Gradient of the (fused) output, read at this module's slice. */
  dy: GPUBuffer;
  dySlice?: LoraSlice;
  /** The forward's x and u. */
  x: GPUBuffer;
  xRows?: LoraXRows;
  u: GPUBuffer;
  m: number;
  /** Scratch f32 [m, rank] (overwritten with du). */
  du: GPUBuffer;
  /** Gradients, accumulated: dA [rank, K], dB [N, rank]. */
  dA: GPUBuffer;
  dB: GPUBuffer;
  /** Input gradient [m, K] (contiguous); omit to skip dX. */
  dx?: GPUBuffer | null;
  /** dX += du·A (default) or dX = du·A. */
  dxAccumulate?: boolean;
}

function checkModule(l: LoraModuleBuffers) {
  const op = `lora(${l.name})`;
  for (const [name, value] of Object.entries({ rank: l.rank, inFeatures: l.inFeatures, outFeatures: l.outFeatures })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${op}: ${name} must be a positive integer, got ${value}`);
  }
  if (!Number.isFinite(l.scaling)) throw new Error(`${op}: scaling must be finite, got ${l.scaling}`);
  if (l.a.size < l.rank * l.inFeatures * 4) throw new Error(`${op}: A holds ${l.a.size / 4} f32 values, needs [${l.rank}, ${l.inFeatures}]`);
  if (l.b.size < l.outFeatures * l.rank * 4) throw new Error(`${op}: B holds ${l.b.size / 4} f32 values, needs [${l.outFeatures}, ${l.rank}]`);
  return op;
}

function checkRows(op: string, m: number) {
  if (!Number.isInteger(m) || m < 1) throw new Error(`${op}: m = ${m} must be a positive integer`);
}

function resolveSlice(op: string, name: string, slice: LoraSlice | undefined, n: number): LoraSlice {
  const s = slice ?? { rowStride: n, colOffset: 0 };
  if (!Number.isInteger(s.rowStride) || !Number.isInteger(s.colOffset) || s.colOffset < 0)
    throw new Error(`${op}: ${name} slice stride ${s.rowStride} / offset ${s.colOffset} must be non-negative integers`);
  if (s.colOffset + n > s.rowStride) throw new Error(`${op}: ${name} columns ${s.colOffset}..${s.colOffset + n} exceed its row stride ${s.rowStride}`);
  return s;
}

function xView(op: string, x: GPUBuffer, rows: LoraXRows | undefined, k: number): StridedView {
  const offset = rows?.offset ?? 0;
  const stride = rows?.stride ?? 1;
  if (!Number.isInteger(offset) || !Number.isInteger(stride) || offset < 0 || stride < 0)
    throw new Error(`${op}: x row offset ${offset} / stride ${stride} must be non-negative integers`);
  return { buffer: x, offset: offset * k, rowStride: stride * k, colStride: 1, name: 'x' };
}

export function encodeLoraForward(ctx: GpuContext, pass: GPUComputePassEncoder, args: LoraForwardArgs) {
  const l = args.lora;
  const op = checkModule(l);
  checkRows(op, args.m);
  const { rank: r, inFeatures: k, outFeatures: n } = l;
  const slice = resolveSlice(op, 'y', args.ySlice, n);
  const uView: StridedView = { buffer: args.u, offset: 0, rowStride: r, colStride: 1, name: 'u' };
  // u[m, j] = Σ_k x[m, k] · A[j, k]
  encodeLoraGemm(
    ctx,
    pass,
    {
      lhs: xView(op, args.x, args.xRows, k),
      rhs: { buffer: l.a, offset: 0, rowStride: 1, colStride: k, name: 'A' },
      out: uView,
      m: args.m,
      n: r,
      p: k,
      alpha: 1,
      accumulate: false,
    },
    `${op} forward u`,
  );
  // y[m, off + n] += s · Σ_j u[m, j] · B[n, j]
  encodeLoraGemm(
    ctx,
    pass,
    {
      lhs: uView,
      rhs: { buffer: l.b, offset: 0, rowStride: 1, colStride: r, name: 'B' },
      out: { buffer: args.y, offset: slice.colOffset, rowStride: slice.rowStride, colStride: 1, name: 'y' },
      m: args.m,
      n,
      p: r,
      alpha: l.scaling,
      accumulate: true,
    },
    `${op} forward y`,
  );
}

export function encodeLoraBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: LoraBackwardArgs) {
  const l = args.lora;
  const op = checkModule(l);
  checkRows(op, args.m);
  const { rank: r, inFeatures: k, outFeatures: n } = l;
  const { m } = args;
  const slice = resolveSlice(op, 'dy', args.dySlice, n);
  for (const [name, buffer] of Object.entries({ u: args.u, x: args.x, dy: args.dy, A: l.a, B: l.b })) {
    if (buffer === args.du) throw new Error(`${op}: the du scratch buffer must differ from ${name}`);
  }
  if (args.dA === l.a || args.dB === l.b) throw new Error(`${op}: gradient buffers dA/dB must differ from A/B`);
  const dy: StridedView = { buffer: args.dy, offset: slice.colOffset, rowStride: slice.rowStride, colStride: 1, name: 'dy' };
  const dyT: StridedView = { ...dy, rowStride: 1, colStride: slice.rowStride };
  const u: StridedView = { buffer: args.u, offset: 0, rowStride: r, colStride: 1, name: 'u' };
  const du: StridedView = { buffer: args.du, offset: 0, rowStride: r, colStride: 1, name: 'du' };
  const x = xView(op, args.x, args.xRows, k);
  // dB[n, j] += s · Σ_m dY[m, n] · u[m, j]
  encodeLoraGemm(
    ctx,
    pass,
    { lhs: dyT, rhs: u, out: { buffer: args.dB, offset: 0, rowStride: r, colStride: 1, name: 'dB' }, m: n, n: r, p: m, alpha: l.scaling, accumulate: true },
    `${op} backward dB`,
  );
  // du[m, j] = s · Σ_n dY[m, n] · B[n, j]
  encodeLoraGemm(
    ctx,
    pass,
    { lhs: dy, rhs: { buffer: l.b, offset: 0, rowStride: r, colStride: 1, name: 'B' }, out: du, m, n: r, p: n, alpha: l.scaling, accumulate: false },
    `${op} backward du`,
  );
  // dA[j, k] += Σ_m du[m, j] · x[m, k]
  encodeLoraGemm(
    ctx,
    pass,
    {
      lhs: { ...du, rowStride: 1, colStride: r },
      rhs: x,
      out: { buffer: args.dA, offset: 0, rowStride: k, colStride: 1, name: 'dA' },
      m: r,
      n: k,
      p: m,
      alpha: 1,
      accumulate: true,
    },
    `${op} backward dA`,
  );
  // dX[m, k] (+)= Σ_j du[m, j] · A[j, k]
  if (args.dx) {
    encodeLoraGemm(
      ctx,
      pass,
      {
        lhs: du,
        rhs: { buffer: l.a, offset: 0, rowStride: k, colStride: 1, name: 'A' },
        out: { buffer: args.dx, offset: 0, rowStride: k, colStride: 1, name: 'dx' },
        m,
        n: k,
        p: r,
        alpha: 1,
        accumulate: args.dxAccumulate ?? true,
      },
      `${op} backward dX`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// CPU references (float64 accumulation). x, dy are given as their [m, K] / [m, N] module views
// (the tests slice fused buffers themselves).

export interface LoraCpuWeights {
  a: Float32Array | Float64Array;
  b: Float32Array | Float64Array;
  rank: number;
  inFeatures: number;
  outFeatures: number;
  scaling: number;
}

/** u = x·Aᵀ [m, r] and delta = s·u·Bᵀ [m, N] (what the forward adds to y). */
export function loraForwardCpu(w: LoraCpuWeights, x: ArrayLike<number>, m: number): { u: Float64Array; delta: Float64Array } {
  const { rank: r, inFeatures: k, outFeatures: n, scaling: s } = w;
  if (x.length < m * k) throw new Error(`loraForwardCpu: x has ${x.length} values, needs ${m}×${k}`);
  const u = new Float64Array(m * r);
  const delta = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < r; j++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += x[i * k + c] * w.a[j * k + c];
      u[i * r + j] = sum;
    }
    for (let c = 0; c < n; c++) {
      let sum = 0;
      for (let j = 0; j < r; j++) sum += u[i * r + j] * w.b[c * r + j];
      delta[i * n + c] = s * sum;
    }
  }
  return { u, delta };
}

/** Gradients of L with dL/d(delta) = dy (the LoRA path only): dA, dB, du and dX (LoRA part). */
export function loraBackwardCpu(
  w: LoraCpuWeights,
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  m: number,
): { dA: Float64Array; dB: Float64Array; du: Float64Array; dx: Float64Array } {
  const { rank: r, inFeatures: k, outFeatures: n, scaling: s } = w;
  if (dy.length < m * n) throw new Error(`loraBackwardCpu: dy has ${dy.length} values, needs ${m}×${n}`);
  const { u } = loraForwardCpu(w, x, m);
  const dA = new Float64Array(r * k);
  const dB = new Float64Array(n * r);
  const du = new Float64Array(m * r);
  const dx = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < n; c++) {
      const g = dy[i * n + c];
      for (let j = 0; j < r; j++) {
        dB[c * r + j] += s * g * u[i * r + j];
        du[i * r + j] += s * g * w.b[c * r + j];
      }
    }
    for (let j = 0; j < r; j++) {
      const d = du[i * r + j];
      for (let c = 0; c < k; c++) {
        dA[j * k + c] += d * x[i * k + c];
        dx[i * k + c] += d * w.a[j * k + c];
      }
    }
  }
  return { dA, dB, du, dx };
}
