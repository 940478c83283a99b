// Weighted log-prob loss over vocab rows, forward and backward:
//   logp[r] = log_softmax(logits[r] / τ)[target[r]]        L = −Σ_r w[r] · logp[r]
//   dLogits[r, i] = (w[r] / τ) · (softmax(logits[r] / τ)[i] − [i == target[r]])
// (the fixture loss uses w = mask / Σmask; GRPO passes per-token advantage × ratio terms; τ = 1
// unless log-probs are taken at a sampling temperature).
//
// No new reduction WGSL: the forward is the engine's gather (src/engine/ops/softmax.ts) and the
// backward runs the engine's softmax over each row, then one small elementwise kernel here turns
// probabilities into the gradient. Rows are processed in the same binding-sized chunks as the
// softmax (rowChunks), so [rows, vocab] matrices over the binding limit work.
//
// Memory: vocab-sized rows are the largest activation, so by default the gradient overwrites the
// logits in place. The forward must then be encoded first (GRPO, whose weights depend on the
// log-probs, calls encodeLogProbForward, computes the weights, then encodeLogProbBackward).
// A target >= vocab makes that row's log-prob and whole gradient row NaN (as the gather does), so
// a bad id poisons the loss instead of passing unnoticed, whatever its weight.
import { ceilDiv, f32Bits, type GpuContext } from '../../engine/gpu/context';
import { encodeGatherLogProb, encodeSoftmax, rowChunks } from '../../engine/ops/softmax';

const WORKGROUP = 256;
const NAN_BITS = 0x7fc00000;

export interface LogProbRows {
  /** f32 [rows, vocab]. */
  logits: GPUBuffer;
  /** u32 [rows]: the token each row predicts. */
  targets: GPUBuffer;
  rows: number;
  vocab: number;
  /** Logits are divided by τ before the softmax; default 1. */
  temperature?: number;
  /** Largest binding in bytes; defaults to the device limit. Tests set it small to exercise chunking. */
  maxChunkBytes?: number;
}

export interface LogProbForwardArgs extends LogProbRows {
  /** f32 [rows] receiving logp. */
  logProbs: GPUBuffer;
}

export interface LogProbBackwardArgs extends LogProbRows {
  /** f32 [rows]: w[r], the loss weight of each row (0 for prompt and tool-output tokens). */
  weights: GPUBuffer;
  /** f32 [rows, vocab] receiving dL/dlogits; omit to overwrite `logits` in place. */
  dLogits?: GPUBuffer;
}

function checkRows(ctx: GpuContext, name: string, args: LogProbRows) {
  const { rows, vocab } = args;
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(vocab) || vocab <= 0)
    throw new Error(`${name}: rows (${rows}) and vocab (${vocab}) must be integers, vocab positive`);
  const temperature = args.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`${name}: temperature must be a positive finite number, got ${temperature}`);
  if (args.logits.size < rows * vocab * 4) throw new Error(`${name}: logits hold ${args.logits.size / 4} f32 values, fewer than ${rows} rows × ${vocab}`);
  if (args.targets.size < rows * 4) throw new Error(`${name}: targets hold fewer than ${rows} u32 values`);
  const maxBytes = Math.min(args.maxChunkBytes ?? ctx.maxBindingBytes, ctx.maxBindingBytes);
  return { invTemperature: f32Bits(1 / temperature), maxBytes };
}

/** logProbs[r] = log_softmax(logits[r] / τ)[targets[r]]: the engine's gather, re-exported for the training API. */
export function encodeLogProbForward(ctx: GpuContext, pass: GPUComputePassEncoder, args: LogProbForwardArgs) {
  checkRows(ctx, 'logProbForward', args);
  encodeGatherLogProb(ctx, pass, {
    logits: args.logits,
    targets: args.targets,
    out: args.logProbs,
    rows: args.rows,
    vocab: args.vocab,
    temperature: args.temperature,
    maxChunkBytes: args.maxChunkBytes,
  });
}

/** Turns softmax probabilities (in place, one chunk of rows) into (w / τ) · (p − onehot(target)). */
export function logProbGradWgsl(vocab: number): string {
  return /* wgsl */ `
struct Params { rows: u32, firstRow: u32, shift: u32, invTemperature: f32, nanBits: u32 }
@group(0) @binding(0) var<storage, read_write> p: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;

const VOCAB = ${vocab}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let localRow = wg.x + wg.y * groups.x;
  if (localRow >= params.rows) { return; }
  let row = params.firstRow + localRow;
  let start = params.shift + localRow * VOCAB;
  let tgt = targets[row];
  let scale = weights[row] * params.invTemperature;
  let bad = tgt >= VOCAB;
  for (var i = lid; i < VOCAB; i += ${WORKGROUP}u) {
    var g = p[start + i];
    if (i == tgt) { g -= 1.0; }
    var value = scale * g;
    if (bad) { value = bitcast<f32>(params.nanBits); }
    p[start + i] = value;
  }
}`;
}

/** dLogits = (w / τ) · (softmax(logits / τ) − onehot(targets)), into dLogits or over logits. */
export function encodeLogProbBackward(ctx: GpuContext, pass: GPUComputePassEncoder, args: LogProbBackwardArgs) {
  const { invTemperature, maxBytes } = checkRows(ctx, 'logProbBackward', args);
  const { rows, vocab } = args;
  if (args.weights.size < rows * 4) throw new Error(`logProbBackward: weights hold fewer than ${rows} f32 values`);
  if (args.dLogits && args.dLogits.size < rows * vocab * 4) throw new Error(`logProbBackward: dLogits hold fewer than ${rows} rows × ${vocab} f32 values`);
  if (args.dLogits === args.logits) throw new Error('logProbBackward: for in-place operation omit `dLogits` instead of passing logits');
  if (args.dLogits && (args.dLogits === args.targets || args.dLogits === args.weights)) throw new Error('logProbBackward: dLogits must be its own buffer');
  const grad = args.dLogits ?? args.logits;
  encodeSoftmax(ctx, pass, { mode: 'softmax', logits: args.logits, out: args.dLogits, rows, vocab, temperature: args.temperature, maxChunkBytes: maxBytes });
  const pipeline = ctx.pipeline(logProbGradWgsl(vocab));
  // Same chunking as encodeSoftmax (same rows, vocab, byte limit and alignment), so each chunk
  // here covers exactly the probabilities that one softmax dispatch wrote.
  for (const c of rowChunks(rows, vocab, maxBytes, ctx.device.limits.minStorageBufferOffsetAlignment)) {
    const params = ctx.params([c.rows, c.firstRow, c.elementShift, invTemperature, NAN_BITS]);
    const x = Math.min(c.rows, ctx.device.limits.maxComputeWorkgroupsPerDimension);
    ctx.dispatch(pass, pipeline, [{ buffer: grad, offset: c.byteOffset, size: c.byteSize }, params, args.targets, args.weights], [x, ceilDiv(c.rows, x)]);
  }
}

/**
 * CPU reference in f64: the per-row log-probs, the loss L = −Σ w·logp and dL/dlogits [rows, vocab].
 * 1/τ is rounded to f32 as on the GPU. A target outside [0, vocab) gives a NaN row and a NaN loss.
 */
export function logProbLossCpu(
  logits: ArrayLike<number>,
  vocab: number,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  temperature = 1,
): { loss: number; logProbs: Float64Array; dLogits: Float64Array } {
  const rows = targets.length;
  if (weights.length !== rows) throw new Error(`logProbLossCpu: ${weights.length} weights for ${rows} targets`);
  if (logits.length !== rows * vocab) throw new Error(`logProbLossCpu: ${logits.length} logits are not ${rows} rows × vocab ${vocab}`);
  const invT = Math.fround(1 / temperature);
  const logProbs = new Float64Array(rows);
  const dLogits = new Float64Array(rows * vocab);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const start = r * vocab;
    const target = targets[r];
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[start + i] * invT);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[start + i] * invT - max);
    const logSum = Math.log(sum);
    const valid = Number.isInteger(target) && target >= 0 && target < vocab;
    logProbs[r] = valid ? logits[start + target] * invT - max - logSum : NaN;
    loss -= weights[r] * logProbs[r];
    for (let i = 0; i < vocab; i++) {
      const p = Math.exp(logits[start + i] * invT - max - logSum);
      dLogits[start + i] = valid ? weights[r] * invT * (p - (i === target ? 1 : 0)) : NaN;
    }
  }
  return { loss, logProbs, dLogits };
}
