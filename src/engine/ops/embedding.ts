// Embedding gather: out[t, :] = E[ids[t], :] for `count` token ids (u32), E a GpuWeight
// [vocab, hidden] in any format, chunked along the vocabulary. Each chunk's dispatch writes the
// tokens whose id falls in its row range; the last chunk also writes zeros for ids ≥ vocab.
// Out-of-range ids are a caller bug: the engine rejects them on the CPU before upload
// (QwenEngine.checkIds); the GPU writes zeros rather than reading out of bounds, so a bad id
// cannot crash the device.
import { ceilDiv, type GpuContext } from '../gpu/context';
import { hasScales } from '../quant/formats';
import type { GpuWeight } from '../weights';
import { weightWgsl } from './matmul-weight-wgsl';

const WORKGROUP = 64;

export interface EmbeddingArgs {
  /** u32 [count] token ids. */
  ids: GPUBuffer;
  table: GpuWeight;
  /** f32 [count, hidden]. */
  out: GPUBuffer;
  count: number;
}

export function embeddingWgsl(table: Pick<GpuWeight, 'format' | 'cols'>, shaderF16: boolean): string {
  const hidden = table.cols;
  const weight = weightWgsl(table.format, hidden, { data: 1, scales: 4 }, shaderF16);
  return /* wgsl */ `${weight.enable}
struct Params { count: u32, row_start: u32, rows: u32, vocab: u32, last_chunk: u32 }
@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${weight.code}

const H = ${hidden}u;
const QUADS = ${ceilDiv(hidden, 4)}u;
const QUAD_GROUPS = ${ceilDiv(ceilDiv(hidden, 4), WORKGROUP)}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let g = wid.x + wid.y * groups.x;
  let t = g / QUAD_GROUPS;
  let q = (g % QUAD_GROUPS) * ${WORKGROUP}u + lid.x;
  if (t >= params.count || q >= QUADS) { return; }
  let id = ids[t];
  var v = vec4<f32>(0.0);
  if (id >= params.row_start && id < params.row_start + params.rows) {
    v = w_quad(id - params.row_start, q);
  } else if (params.last_chunk == 0u || id < params.vocab) {
    return; // another chunk owns this id
  }
  for (var i = 0u; i < 4u; i++) {
    let k = q * 4u + i;
    if (k < H) { out[t * H + k] = v[i]; }
  }
}`;
}

export function encodeEmbedding(ctx: GpuContext, pass: GPUComputePassEncoder, args: EmbeddingArgs) {
  const { table, count } = args;
  const name = `embedding(${table.name})`;
  if (!Number.isInteger(count) || count < 1) throw new Error(`${name}: count = ${count} must be a positive integer`);
  if (args.ids.size < count * 4) throw new Error(`${name}: ids hold ${args.ids.size} bytes, need ${count} u32`);
  if (args.out.size < count * table.cols * 4) throw new Error(`${name}: out holds ${args.out.size} bytes, needs ${count}×${table.cols} f32`);
  if (table.chunks.length === 0) throw new Error(`${name}: table has no chunks (destroyed?)`);
  const pipeline = ctx.pipeline(embeddingWgsl(table, ctx.shaderF16));
  const groups = ceilDiv(ceilDiv(table.cols, 4), WORKGROUP) * count;
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  table.chunks.forEach((chunk, i) => {
    const last = i === table.chunks.length - 1 ? 1 : 0;
    const bindings = [args.ids, chunk.data, args.out, ctx.params([count, chunk.rowStart, chunk.rows, table.rows, last])];
    if (hasScales(table.format)) bindings.push(chunk.scales!);
    ctx.dispatch(pass, pipeline, bindings, [x, ceilDiv(groups, x)]);
  });
}

/** CPU reference: rows of `table` [vocab, hidden]; out-of-range ids give zero rows. */
export function embeddingCpu(table: Float32Array, vocab: number, hidden: number, ids: ArrayLike<number>): Float32Array {
  if (table.length !== vocab * hidden) throw new Error(`embeddingCpu: table has ${table.length} values, expected ${vocab}×${hidden}`);
  const out = new Float32Array(ids.length * hidden);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id >= 0 && id < vocab) out.set(table.subarray(id * hidden, (id + 1) * hidden), t * hidden);
  }
  return out;
}
