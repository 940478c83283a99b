// The one tiled-GEMM tile loop, shared by the forward matmul (matmul-tiled.ts), every LoRA
// product (lora-gemm.ts) and the input gradient through a frozen weight (training's
// matmul-backward.ts):
//   C[i, j] = Σ_k A[i, k] · B[k, j],   i < M, j < N, k < K.
// A 16×16 workgroup computes a 64×64 tile of C, each thread a 4×4 block (4 rows × 4 columns).
// K is walked in steps of 16: the workgroup stages the 64×16 slice of A and the 16×64 slice of B
// in workgroup memory (2 × 4 KiB), then every thread does 16 rank-1 updates from it. Operands are
// staged as vec4 quads, so a packed weight is decoded once per quad while staging and the inner
// loop is plain f32 FMAs whatever the format.
//
// The caller supplies WGSL text that loads quads and stores results; everything else (tiling,
// staging layout, barriers, accumulation order) lives here once. Rows of A past M and whole quads
// of B past N (or past K, see `along`) stage zeros here; a loader zeroes only the elements of its
// own quad that fall past the end (a ragged K or N).
import { ceilDiv } from '../gpu/context';

export const GEMM_TILE = 64;
const TILE_K = 16;

export interface GemmTileSpec {
  /** WGSL u32 expressions for C's rows M, columns N and the reduction length K (uniform). */
  m: string;
  n: string;
  k: string;
  /** Statements run once per thread before the K loop; may read `a_row` and declare helpers. */
  setup?: string;
  /** Statements setting `quad` (a zeroed vec4<f32>) to A[a_row, a_k .. a_k + 3]; a_row < M here. */
  loadA: string;
  /**
   * How B is staged. 'k': `quad` = B[b_k .. b_k + 3, b_col] (4 reduction indices of one column:
   * a weight row, or a strided column), run when b_col < N. 'n': `quad` = B[b_k, b_col .. b_col + 3]
   * (4 columns at one reduction index), run when b_k < K.
   */
  loadB: { along: 'k' | 'n'; code: string };
  /** Statements writing `value` = C[i, j] (i < M, j < N here). */
  store: string;
}

/** Workgroup memory and the `main` entry point; the caller's module declares the bindings. */
export function gemmTileWgsl(spec: GemmTileSpec): string {
  // Both tiles are [k][4 consecutive rows i or columns j]: thread (tx, ty) reads a_tile[k·16 + ty]
  // and b_tile[k·16 + tx]. A quad along k is scattered over 4 tile rows; one along n is one entry.
  const stageB =
    spec.loadB.along === 'k'
      ? /* wgsl */ `{
      var quad = vec4<f32>(0.0);
      if (b_col < ${spec.n}) {
        ${spec.loadB.code}
      }
      for (var q = 0u; q < 4u; q++) { b_tile[(load_k + q) * 16u + load_row / 4u][load_row % 4u] = quad[q]; }
    }`
      : /* wgsl */ `{
      var quad = vec4<f32>(0.0);
      if (b_k < ${spec.k}) {
        ${spec.loadB.code}
      }
      b_tile[t] = quad;
    }`;
  const bIndices =
    spec.loadB.along === 'k'
      ? 'let b_col = j_tile + load_row;\n    let b_k = k0 + load_k;'
      : 'let b_col = j_tile + (t % 16u) * 4u;\n    let b_k = k0 + t / 16u;';
  return /* wgsl */ `
var<workgroup> a_tile: array<vec4<f32>, ${(TILE_K * GEMM_TILE) / 4}>;
var<workgroup> b_tile: array<vec4<f32>, ${(TILE_K * GEMM_TILE) / 4}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * 16u + tx;
  let j_tile = wid.x * ${GEMM_TILE}u;
  let i_tile = wid.y * ${GEMM_TILE}u;
  // Staging along k: thread t loads quad (t % 4) of tile row (t / 4).
  let load_row = t / 4u;
  let load_k = (t % 4u) * 4u;
  let a_row = i_tile + load_row;
  ${spec.setup ?? ''}
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < ${spec.k}; k0 += ${TILE_K}u) {
    let a_k = k0 + load_k;
    {
      var quad = vec4<f32>(0.0);
      if (a_row < ${spec.m}) {
        ${spec.loadA}
      }
      for (var q = 0u; q < 4u; q++) { a_tile[(load_k + q) * 16u + load_row / 4u][load_row % 4u] = quad[q]; }
    }
    ${bIndices}
    ${stageB}
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_K}u; kk++) {
      let a = a_tile[kk * 16u + ty];
      let b = b_tile[kk * 16u + tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let i = i_tile + ty * 4u + r;
    if (i >= ${spec.m}) { break; }
    for (var c = 0u; c < 4u; c++) {
      let j = j_tile + tx * 4u + c;
      if (j < ${spec.n}) {
        let value = acc[r][c];
        ${spec.store}
      }
    }
  }
}`;
}

/** Workgroups for an [m, n] output: [columns, rows] of 64×64 tiles. */
export function gemmTileGroups(m: number, n: number): [number, number] {
  return [ceilDiv(n, GEMM_TILE), ceilDiv(m, GEMM_TILE)];
}
