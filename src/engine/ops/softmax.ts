// Softmax, log-softmax and "gather log-prob" over rows of vocab-sized logits [rows, V].
//
// One workgroup per row. Each thread keeps an online (max, sum of exp(x - max)) pair over a
// strided slice of the row, the workgroup merges the pairs with a fixed tree (deterministic), and
// a second pass writes exp(x - max) / sum or (x - max) - log(sum). The gather mode reads only the
// target entry: logp[r] = log_softmax(logits[r] * invTemperature)[target[r]] (RL log-probs);
// a target >= V gives NaN so a bad id poisons the loss instead of passing unnoticed.
//
// Logit matrices can exceed one storage binding (4096 rows × 151936 × 4 bytes = 2.5 GB), so rows
// are processed in chunks that each fit a binding: see rowChunks.
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;
const NEG_BIG = -3.0e38;
const NAN_BITS = 0x7fc00000;

export interface RowChunk {
  firstRow: number;
  rows: number;
  /** Binding offset: the chunk's first byte rounded down to the device's offset alignment. */
  byteOffset: number;
  byteSize: number;
  /** f32 elements between byteOffset and the chunk's first row. */
  elementShift: number;
}

/**
 * Splits [totalRows, rowElements] f32 rows into bindable chunks of at most maxBytes each whose
 * offsets honour `alignment` (minStorageBufferOffsetAlignment). Rows of odd length start
 * mid-alignment, so each chunk carries the element shift from its aligned offset.
 */
export function rowChunks(totalRows: number, rowElements: number, maxBytes: number, alignment: number): RowChunk[] {
  const rowBytes = rowElements * 4;
  const rowsPerChunk = Math.floor((maxBytes - alignment) / rowBytes);
  if (rowsPerChunk < 1) throw new Error(`a row of ${rowElements} f32 values (${rowBytes} bytes) does not fit a ${maxBytes}-byte binding`);
  const chunks: RowChunk[] = [];
  for (let firstRow = 0; firstRow < totalRows; firstRow += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, totalRows - firstRow);
    const start = firstRow * rowBytes;
    const byteOffset = start - (start % alignment);
    chunks.push({ firstRow, rows, byteOffset, byteSize: start - byteOffset + rows * rowBytes, elementShift: (start - byteOffset) / 4 });
  }
  return chunks;
}

export type SoftmaxMode = 'softmax' | 'log-softmax' | 'gather';

export interface SoftmaxArgs {
  /** f32 [rows, vocab]. */
  logits: GPUBuffer;
  rows: number;
  vocab: number;
  /** Logits are multiplied by 1 / temperature first; default 1. */
  temperature?: number;
  /** Largest binding in bytes; defaults to the device limit. Tests set it small to exercise chunking. */
  maxChunkBytes?: number;
}

export interface SoftmaxRowsArgs extends SoftmaxArgs {
  mode: 'softmax' | 'log-softmax';
  /** f32 [rows, vocab]; omit to overwrite `logits` in place. */
  out?: GPUBuffer;
}

export interface GatherLogProbArgs extends SoftmaxArgs {
  /** u32 [rows]: the token whose log-prob to take from each row. */
  targets: GPUBuffer;
  /** f32 [rows]. */
  out: GPUBuffer;
}

export function softmaxWgsl(vocab: number, mode: SoftmaxMode, inPlace: boolean): string {
  const xAccess = inPlace ? 'read_write' : 'read';
  const extra =
    mode === 'gather'
      ? `@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read_write> gathered: array<f32>;`
      : inPlace
        ? ''
        : '@group(0) @binding(2) var<storage, read_write> y: array<f32>;';
  const dst = inPlace ? 'x' : 'y';
  const finish =
    mode === 'gather'
      ? `if (lid == 0u) {
    let tgt = targets[row];
    var value = bitcast<f32>(params.nanBits);
    if (tgt < VOCAB) { value = (x[start + tgt] * params.invTemperature - maxAll) - log(sumAll); }
    gathered[row] = value;
  }`
      : mode === 'softmax'
        ? `let invSum = 1.0 / sumAll;
  for (var i = lid; i < VOCAB; i += ${WORKGROUP}u) { ${dst}[start + i] = exp(x[start + i] * params.invTemperature - maxAll) * invSum; }`
        : `let logSum = log(sumAll);
  for (var i = lid; i < VOCAB; i += ${WORKGROUP}u) { ${dst}[start + i] = (x[start + i] * params.invTemperature - maxAll) - logSum; }`;
  return /* wgsl */ `
struct Params { rows: u32, firstRow: u32, shift: u32, invTemperature: f32, nanBits: u32 }
@group(0) @binding(0) var<storage, ${xAccess}> x: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
${extra}

const VOCAB = ${vocab}u;
const NEG_BIG = ${NEG_BIG.toExponential()};
var<workgroup> maxes: array<f32, ${WORKGROUP}>;
var<workgroup> sums: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let localRow = wg.x + wg.y * groups.x;
  if (localRow >= params.rows) { return; }
  let row = params.firstRow + localRow;
  let start = params.shift + localRow * VOCAB;
  var m = NEG_BIG;
  var s = 0.0;
  for (var i = lid; i < VOCAB; i += ${WORKGROUP}u) {
    let v = x[start + i] * params.invTemperature;
    if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else { s += exp(v - m); }
  }
  maxes[lid] = m;
  sums[lid] = s;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let m1 = maxes[lid];
      let m2 = maxes[lid + stride];
      let mm = max(m1, m2);
      sums[lid] = sums[lid] * exp(m1 - mm) + sums[lid + stride] * exp(m2 - mm);
      maxes[lid] = mm;
    }
    workgroupBarrier();
  }
  let maxAll = maxes[0];
  let sumAll = sums[0];
  ${finish}
}`;
}

function checkCommon(ctx: GpuContext, name: string, args: SoftmaxArgs) {
  const { rows, vocab } = args;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(vocab) || vocab <= 0)
    throw new Error(`${name}: rows (${rows}) and vocab (${vocab}) must be integers, vocab positive`);
  const temperature = args.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`${name}: temperature must be a positive finite number, got ${temperature}`);
  if (args.logits.size < rows * vocab * 4) throw new Error(`${name}: logits hold ${args.logits.size / 4} f32 values, fewer than ${rows} rows × ${vocab}`);
  const maxBytes = Math.min(args.maxChunkBytes ?? ctx.maxBindingBytes, ctx.maxBindingBytes);
  return { invTemperature: f32Bits(1 / temperature), chunks: rowChunks(rows, vocab, maxBytes, ctx.device.limits.minStorageBufferOffsetAlignment) };
}

function grid(ctx: GpuContext, rows: number): [number, number] {
  const x = Math.min(rows, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  return [x, ceilDiv(rows, x)];
}

/** Softmax or log-softmax of each row, into `out` or in place. */
export function encodeSoftmax(ctx: GpuContext, pass: GPUComputePassEncoder, args: SoftmaxRowsArgs) {
  const { invTemperature, chunks } = checkCommon(ctx, args.mode, args);
  if (args.out && args.out.size < args.rows * args.vocab * 4)
    throw new Error(`${args.mode}: out holds fewer than ${args.rows} rows × ${args.vocab} f32 values`);
  if (args.out === args.logits) throw new Error(`${args.mode}: for in-place operation omit \`out\` instead of passing logits`);
  const pipeline = ctx.pipeline(softmaxWgsl(args.vocab, args.mode, !args.out));
  for (const c of chunks) {
    const params = ctx.params([c.rows, c.firstRow, c.elementShift, invTemperature, NAN_BITS]);
    const bindings = [{ buffer: args.logits, offset: c.byteOffset, size: c.byteSize }, params];
    if (args.out) bindings.push({ buffer: args.out, offset: c.byteOffset, size: c.byteSize });
    ctx.dispatch(pass, pipeline, bindings, grid(ctx, c.rows));
  }
}

/** out[r] = log_softmax(logits[r] / temperature)[targets[r]]. */
export function encodeGatherLogProb(ctx: GpuContext, pass: GPUComputePassEncoder, args: GatherLogProbArgs) {
  const { invTemperature, chunks } = checkCommon(ctx, 'gatherLogProb', args);
  if (args.targets.size < args.rows * 4) throw new Error(`gatherLogProb: targets hold fewer than ${args.rows} u32 values`);
  if (args.out.size < args.rows * 4) throw new Error(`gatherLogProb: out holds fewer than ${args.rows} f32 values`);
  const pipeline = ctx.pipeline(softmaxWgsl(args.vocab, 'gather', false));
  for (const c of chunks) {
    const params = ctx.params([c.rows, c.firstRow, c.elementShift, invTemperature, NAN_BITS]);
    const bindings = [{ buffer: args.logits, offset: c.byteOffset, size: c.byteSize }, params, args.targets, args.out];
    ctx.dispatch(pass, pipeline, bindings, grid(ctx, c.rows));
  }
}

function rowStats(logits: Float32Array, start: number, vocab: number, invTemperature: number) {
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, Math.fround(logits[start + i] * invTemperature));
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(Math.fround(logits[start + i] * invTemperature) - max);
  return { max, logSum: Math.log(sum) };
}

/** CPU reference (f64): softmax or log-softmax of each row of [rows, vocab]. */
export function softmaxCpu(logits: Float32Array, vocab: number, mode: 'softmax' | 'log-softmax', temperature = 1): Float32Array {
  const invTemperature = Math.fround(1 / temperature);
  const out = new Float32Array(logits.length);
  for (let start = 0; start < logits.length; start += vocab) {
    const { max, logSum } = rowStats(logits, start, vocab, invTemperature);
    for (let i = 0; i < vocab; i++) {
      const logp = Math.fround(logits[start + i] * invTemperature) - max - logSum;
      out[start + i] = mode === 'softmax' ? Math.exp(logp) : logp;
    }
  }
  return out;
}

/** CPU reference for gather log-prob; NaN for a target outside the vocabulary. */
export function gatherLogProbCpu(logits: Float32Array, vocab: number, targets: ArrayLike<number>, temperature = 1): Float32Array {
  const invTemperature = Math.fround(1 / temperature);
  const out = new Float32Array(targets.length);
  for (let r = 0; r < targets.length; r++) {
    const start = r * vocab;
    const { max, logSum } = rowStats(logits, start, vocab, invTemperature);
    out[r] = targets[r] < vocab ? Math.fround(logits[start + targets[r]] * invTemperature) - max - logSum : NaN;
  }
  return out;
}
