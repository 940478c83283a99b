// Token selection on the GPU, so a decode step reads back only token ids (and two log-probs).
//
// Semantics per row of logits z (length V), following Hugging Face's warper order
// temperature → top-k → top-p, with ties resolved by value so the result never depends on a sort:
//   0. temperature T = 0 means greedy: the argmax, ties → lowest index (torch.argmax).
//   1. s_i = z_i * fround(1 / T)   (f32; HF divides, which can differ by one ULP)
//   2. top-k (0 < K < V): keep s_i >= τk, τk = the K-th largest s (with multiplicity), so every
//      token tied with the K-th is kept — exactly HF's `scores < topk(scores, K)[-1]` removal.
//   3. top-p (P < 1): with w_i = exp(s_i - max s) and Zk = Σ_{kept} w, keep token i iff the
//      mass of kept tokens with a strictly larger value is < P·Zk. This is HF's
//      "smallest top set whose cumulative probability reaches P" (HF removes a token when the
//      ascending cumulative probability up to it is <= 1 - P), with tied values kept together.
//      The top token is always kept (mass above it is 0 < P·Zk for P > 0).
//   4. draw u = samplingUniform(seed, counter) in [0, 1) and pick the first token i in index
//      order whose inclusive cumulative kept weight exceeds u · Σ_{kept} w (inverse CDF).
// Outputs: tokens[r] (u32) and logprobs[2r] = log_softmax(z)[token] under the model's full
// temperature-1 distribution (what the RL trainer's policy ratio uses), logprobs[2r + 1] = log of
// the token's probability under the filtered, renormalized sampling distribution (0 for greedy).
//
// GPU algorithm (one workgroup per row: 256 threads, or 64 for rows under 4096; every reduction
// in a fixed order, so results are reproducible): pass 1 computes max, Σexp and argmax of z;
// top-k finds τk exactly by a 4-round radix select over an order-preserving u32 key of s (8 bits
// per round, workgroup histogram; -0 and +0 share a key); top-p finds its threshold key exactly
// by an 8-way search over the key range, each round one pass that sums w above 7 candidate keys at
// once (at most 11 rounds); the final pass splits the row into one contiguous index range per
// thread, thread 0 locates the range holding the target cumulative weight and scans it.
// Floating-point sums are f32 on the GPU and f64 on the CPU reference, so the two can disagree
// only when u · Σw or P · Zk lands within rounding error of a boundary (not seen in the tests).
// The CPU semantics were checked against transformers' Temperature/TopK/TopP warpers on 300
// random rows (identical kept sets).
import { ceilDiv, f32Bits, type GpuContext } from '../gpu/context';
import { rowChunks } from './softmax';

const WORKGROUP = 256;
const NEG_BIG = -3.0e38;
/** Words per row in the sampling-params buffer. */
export const SAMPLING_PARAM_WORDS = 8;

export interface SamplingRowParams {
  /** 0 = greedy; otherwise > 0. */
  temperature: number;
  /** 0 = disabled; otherwise keep the K largest (ties included). */
  topK: number;
  /** In (0, 1]; 1 = disabled. */
  topP: number;
  /** Per-sequence seed (u32). Give each sequence its own, e.g. rowSeed(baseSeed, sequenceIndex). */
  seed: number;
  /** Per-draw counter (u32), e.g. the decode step or the token's position. */
  counter: number;
}

/** Packs per-row parameters: SAMPLING_PARAM_WORDS u32 words per row [invT, topK, topP, seed, counter, 0, 0, 0]. */
export function packSamplingParams(rows: SamplingRowParams[]): Uint32Array {
  const words = new Uint32Array(rows.length * SAMPLING_PARAM_WORDS);
  rows.forEach((p, r) => {
    const where = `sampling params of row ${r}`;
    if (!(p.temperature >= 0) || !Number.isFinite(p.temperature)) throw new Error(`${where}: temperature must be a finite number >= 0, got ${p.temperature}`);
    if (!Number.isInteger(p.topK) || p.topK < 0 || p.topK > 0xffffffff) throw new Error(`${where}: topK must be a non-negative integer, got ${p.topK}`);
    if (!(p.topP > 0 && p.topP <= 1)) throw new Error(`${where}: topP must be in (0, 1], got ${p.topP}`);
    for (const name of ['seed', 'counter'] as const) {
      if (!Number.isInteger(p[name]) || p[name] < 0 || p[name] > 0xffffffff) throw new Error(`${where}: ${name} must be a u32, got ${p[name]}`);
    }
    const base = r * SAMPLING_PARAM_WORDS;
    words[base] = p.temperature === 0 ? 0 : f32Bits(1 / p.temperature);
    words[base + 1] = p.topK;
    words[base + 2] = f32Bits(p.topP);
    words[base + 3] = p.seed;
    words[base + 4] = p.counter;
  });
  return words;
}

// ---- Counter-based RNG: integer-only, so the TypeScript and WGSL versions agree bit for bit.

function mix32(x: number): number {
  let v = x >>> 0;
  v = Math.imul(v ^ (v >>> 16), 0x21f0aaad) >>> 0;
  v = Math.imul(v ^ (v >>> 15), 0x735a2d97) >>> 0;
  return (v ^ (v >>> 15)) >>> 0;
}

/** The uniform draw in [0, 1) (24-bit, exact in f32) that sampling uses for (seed, counter). */
export function samplingUniform(seed: number, counter: number): number {
  const h = mix32((mix32((seed + 0x9e3779b9) >>> 0) ^ counter) >>> 0);
  return (mix32((h + 0x85ebca6b) >>> 0) >>> 8) / 16777216;
}

/** A per-sequence seed derived from a base seed, so rows of one batch draw independent streams. */
export function rowSeed(baseSeed: number, sequence: number): number {
  return mix32((baseSeed ^ Math.imul(sequence + 1, 0x9e3779b1)) >>> 0);
}

const WGSL_RNG = /* wgsl */ `
fn mix32(x: u32) -> u32 {
  var v = x;
  v = (v ^ (v >> 16u)) * 0x21f0aaadu;
  v = (v ^ (v >> 15u)) * 0x735a2d97u;
  return v ^ (v >> 15u);
}
fn samplingUniform(seed: u32, counter: u32) -> f32 {
  let h = mix32(mix32(seed + 0x9e3779b9u) ^ counter);
  return f32(mix32(h + 0x85ebca6bu) >> 8u) * (1.0 / 16777216.0);
}`;

// ---- Sampling kernel

/**
 * Workgroup size per row: 256 threads for vocab-sized rows; 64 for short rows, where idle
 * threads only add barrier cost (SwiftShader runs tests with small vocabularies).
 */
export function samplingWorkgroupSize(vocab: number): number {
  return vocab >= 4096 ? 256 : 64;
}

export function samplingWgsl(vocab: number): string {
  const workgroup = samplingWorkgroupSize(vocab);
  const chunk = Math.ceil(vocab / workgroup);
  // Partial sums of one top-p threshold are reduced in groups of 16: WG / 16 groups per threshold.
  const groupsPerColumn = workgroup / 16;
  return /* wgsl */ `
struct Params { rows: u32, firstRow: u32, shift: u32, unused: u32 }
struct RowParams { invTemperature: f32, topK: u32, topP: f32, seed: u32, counter: u32, r0: u32, r1: u32, r2: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read> rowParams: array<RowParams>;
@group(0) @binding(3) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(4) var<storage, read_write> logprobs: array<f32>;

const VOCAB = ${vocab}u;
const WG = ${workgroup}u;
const CHUNK = ${chunk}u;
const NONE = 0xffffffffu;
const NEG_BIG = ${NEG_BIG.toExponential()};
/** key(-inf): every non-NaN f32 has a key at least this large. */
const KEY_NEG_INF = 0x007fffffu;

var<workgroup> redMax: array<f32, ${workgroup}>;
var<workgroup> redSum: array<f32, ${workgroup}>;
var<workgroup> redVal: array<f32, ${workgroup}>;
var<workgroup> redIdx: array<u32, ${workgroup}>;
var<workgroup> sums7: array<f32, ${7 * workgroup}>;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> shared4: vec4u;

${WGSL_RNG}

/** Order-preserving map from f32 to u32: a < b ⇔ key(a) < key(b) for non-NaN values; -0 maps like +0 (they are equal). */
fn key(f: f32) -> u32 {
  let b = bitcast<u32>(f);
  if (b == 0x80000000u) { return 0x80000000u; }
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

/** Tree sum of redSum over the workgroup; every thread gets the total. */
fn workgroupSum(lid: u32, value: f32) -> f32 {
  redSum[lid] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { redSum[lid] += redSum[lid + stride]; }
    workgroupBarrier();
  }
  let total = redSum[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  let localRow = wg.x + wg.y * groups.x;
  if (localRow >= params.rows) { return; }
  let row = params.firstRow + localRow;
  let start = params.shift + localRow * VOCAB;
  if (lid == 0u) {
    let p = rowParams[row];
    shared4 = vec4u(bitcast<u32>(p.invTemperature), p.topK, bitcast<u32>(p.topP), 0u);
  }
  let cfg = workgroupUniformLoad(&shared4);
  let invT = bitcast<f32>(cfg.x);

  // Pass 1: max and Σexp of the raw logits (model distribution) and the argmax.
  var m1 = NEG_BIG;
  var s1 = 0.0;
  var bestVal = NEG_BIG;
  var bestIdx = NONE;
  for (var i = lid; i < VOCAB; i += WG) {
    let z = logits[start + i];
    if (z > m1) { s1 = s1 * exp(m1 - z) + 1.0; m1 = z; } else { s1 += exp(z - m1); }
    if (bestIdx == NONE || z > bestVal) { bestVal = z; bestIdx = i; }
  }
  redMax[lid] = m1;
  redSum[lid] = s1;
  redVal[lid] = bestVal;
  redIdx[lid] = bestIdx;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let ma = redMax[lid];
      let mb = redMax[lid + stride];
      let mm = max(ma, mb);
      redSum[lid] = redSum[lid] * exp(ma - mm) + redSum[lid + stride] * exp(mb - mm);
      redMax[lid] = mm;
      let oi = redIdx[lid + stride];
      let ov = redVal[lid + stride];
      let mi = redIdx[lid];
      if (oi != NONE && (mi == NONE || ov > redVal[lid] || (ov == redVal[lid] && oi < mi))) {
        redVal[lid] = ov;
        redIdx[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  m1 = redMax[0];
  let logS1 = log(redSum[0]);
  let argmax = redIdx[0];
  workgroupBarrier();

  if (cfg.x == 0u) {
    if (lid == 0u) {
      tokens[row] = argmax;
      logprobs[2u * row] = (logits[start + argmax] - m1) - logS1;
      logprobs[2u * row + 1u] = 0.0;
    }
    return;
  }
  let m = m1 * invT;

  // Top-k: radix select of the K-th largest key, 8 bits per round from the top.
  var tauK = KEY_NEG_INF;
  if (cfg.y > 0u && cfg.y < VOCAB) {
    var prefix = 0u;
    var remaining = cfg.y;
    for (var digit = 0u; digit < 4u; digit++) {
      let shift = 24u - 8u * digit;
      for (var b = lid; b < 256u; b += WG) { atomicStore(&hist[b], 0u); }
      workgroupBarrier();
      for (var i = lid; i < VOCAB; i += WG) {
        let k = key(logits[start + i] * invT);
        if (digit == 0u || (k >> (shift + 8u)) == (prefix >> (shift + 8u))) {
          atomicAdd(&hist[(k >> shift) & 255u], 1u);
        }
      }
      workgroupBarrier();
      if (lid == 0u) {
        var above = 0u;
        for (var b = 255i; b >= 0i; b--) {
          let c = atomicLoad(&hist[u32(b)]);
          if (above + c >= remaining) {
            shared4 = vec4u(prefix | (u32(b) << shift), remaining - above, 0u, 0u);
            break;
          }
          above += c;
        }
      }
      let state = workgroupUniformLoad(&shared4);
      prefix = state.x;
      remaining = state.y;
    }
    tauK = prefix;
  }

  // Zk = Σ exp(s - m) over the top-k set.
  var part = 0.0;
  for (var i = lid; i < VOCAB; i += WG) {
    let v = logits[start + i] * invT;
    if (key(v) >= tauK) { part += exp(v - m); }
  }
  let zk = workgroupSum(lid, part);

  // Top-p: smallest key t with A(t) = Σ_{key > t} w < P·Zk; search (lo, hi], G(lo) false, G(hi) true.
  var tau = tauK;
  let topP = bitcast<f32>(cfg.z);
  if (topP < 1.0) {
    let limit = topP * zk;
    // Every thread computed the same key(m), but only a workgroup-uniform load proves it.
    if (lid == 0u) { shared4 = vec4u(tauK - 1u, key(m), 0u, 0u); }
    let range = workgroupUniformLoad(&shared4);
    var lo = range.x;
    var hi = range.y;
    loop {
      if (hi - lo <= 1u) { break; }
      let d = hi - lo;
      var t: array<u32, 8>;
      t[0] = lo;
      for (var j = 1u; j < 8u; j++) {
        if (d >= 8u) { t[j] = lo + j * (d >> 3u); } else { t[j] = min(lo + j, hi); }
      }
      // Zeroed explicitly: SwiftShader was seen to keep a loop-local array's values across iterations.
      var acc: array<f32, 8>;
      for (var j = 0u; j < 8u; j++) { acc[j] = 0.0; }
      for (var i = lid; i < VOCAB; i += WG) {
        let v = logits[start + i] * invT;
        let k = key(v);
        if (k > t[1]) {
          let w = exp(v - m);
          for (var j = 1u; j < 8u; j++) { if (k > t[j]) { acc[j] += w; } }
        }
      }
      // Two-level fixed-order reduction (few barriers: they dominate on small rows):
      // 7 × WG/16 threads each sum 16 partials of one threshold, then thread 0 sums those.
      for (var j = 1u; j < 8u; j++) { sums7[(j - 1u) * WG + lid] = acc[j]; }
      workgroupBarrier();
      if (lid < 7u * ${groupsPerColumn}u) {
        let column = lid / ${groupsPerColumn}u;
        let first = column * WG + (lid % ${groupsPerColumn}u) * 16u;
        var s = 0.0;
        for (var q = 0u; q < 16u; q++) { s += sums7[first + q]; }
        redVal[lid] = s;
      }
      workgroupBarrier();
      if (lid == 0u) {
        var newLo = t[7];
        var newHi = hi;
        for (var j = 1u; j < 8u; j++) {
          var above = 0.0;
          for (var g = 0u; g < ${groupsPerColumn}u; g++) { above += redVal[(j - 1u) * ${groupsPerColumn}u + g]; }
          if (above < limit) { newLo = t[j - 1u]; newHi = t[j]; break; }
        }
        shared4 = vec4u(newLo, newHi, 0u, 0u);
      }
      let state = workgroupUniformLoad(&shared4);
      lo = state.x;
      hi = state.y;
    }
    tau = hi;
  }

  // Final: inverse CDF in index order over the kept set, via 256 contiguous ranges.
  let begin = lid * CHUNK;
  let end = min(VOCAB, begin + CHUNK);
  var c = 0.0;
  for (var i = begin; i < end; i++) {
    let v = logits[start + i] * invT;
    if (key(v) >= tau) { c += exp(v - m); }
  }
  redSum[lid] = c;
  workgroupBarrier();
  if (lid == 0u) {
    var zf = 0.0;
    for (var r = 0u; r < WG; r++) { zf += redSum[r]; }
    let p = rowParams[row];
    let goal = samplingUniform(p.seed, p.counter) * zf;
    var run = 0.0;
    var chosen = NONE;
    var lastNonEmpty = 0u;
    var inChunk = 0.0;
    for (var r = 0u; r < WG; r++) {
      let next = run + redSum[r];
      if (redSum[r] > 0.0) {
        lastNonEmpty = r;
        if (chosen == NONE && goal < next) { chosen = r; inChunk = goal - run; }
      }
      run = next;
    }
    if (chosen == NONE) { chosen = lastNonEmpty; inChunk = redSum[lastNonEmpty]; }
    var pick = NONE;
    var lastKept = NONE;
    var acc = 0.0;
    for (var i = chosen * CHUNK; i < min(VOCAB, chosen * CHUNK + CHUNK); i++) {
      let v = logits[start + i] * invT;
      if (key(v) >= tau) {
        acc += exp(v - m);
        lastKept = i;
        if (acc > inChunk) { pick = i; break; }
      }
    }
    if (pick == NONE) { pick = lastKept; }
    tokens[row] = pick;
    let z = logits[start + pick];
    logprobs[2u * row] = (z - m1) - logS1;
    logprobs[2u * row + 1u] = (z * invT - m) - log(zf);
  }
}`;
}

export interface SampleArgs {
  /** f32 [rows, vocab]. */
  logits: GPUBuffer;
  /** u32 [rows, SAMPLING_PARAM_WORDS] from packSamplingParams, written once per step. */
  params: GPUBuffer;
  /** u32 [rows]: chosen token ids (can feed the next step's embedding lookup directly). */
  tokens: GPUBuffer;
  /** f32 [rows, 2]: (model log-prob at temperature 1, sampling-distribution log-prob). */
  logprobs: GPUBuffer;
  rows: number;
  vocab: number;
  /** Largest logits binding in bytes; defaults to the device limit. Tests set it small. */
  maxChunkBytes?: number;
}

function checkRows(name: string, rows: number, vocab: number, logits: GPUBuffer) {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(vocab) || vocab <= 0)
    throw new Error(`${name}: rows (${rows}) and vocab (${vocab}) must be integers, vocab positive`);
  if (logits.size < rows * vocab * 4) throw new Error(`${name}: logits hold ${logits.size / 4} f32 values, fewer than ${rows} rows × ${vocab}`);
}

function grid(ctx: GpuContext, rows: number): [number, number] {
  const x = Math.min(rows, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  return [x, ceilDiv(rows, x)];
}

export function encodeSample(ctx: GpuContext, pass: GPUComputePassEncoder, args: SampleArgs) {
  const { rows, vocab } = args;
  checkRows('sample', rows, vocab, args.logits);
  if (args.params.size < rows * SAMPLING_PARAM_WORDS * 4) throw new Error(`sample: params hold fewer than ${rows} rows × ${SAMPLING_PARAM_WORDS} words`);
  if (args.tokens.size < rows * 4) throw new Error(`sample: tokens hold fewer than ${rows} u32 values`);
  if (args.logprobs.size < rows * 8) throw new Error(`sample: logprobs hold fewer than ${rows} × 2 f32 values`);
  const pipeline = ctx.pipeline(samplingWgsl(vocab));
  const maxBytes = Math.min(args.maxChunkBytes ?? ctx.maxBindingBytes, ctx.maxBindingBytes);
  for (const c of rowChunks(rows, vocab, maxBytes, ctx.device.limits.minStorageBufferOffsetAlignment)) {
    const bindings = [
      { buffer: args.logits, offset: c.byteOffset, size: c.byteSize },
      ctx.params([c.rows, c.firstRow, c.elementShift, 0]),
      args.params,
      args.tokens,
      args.logprobs,
    ];
    ctx.dispatch(pass, pipeline, bindings, grid(ctx, c.rows));
  }
}

// ---- CPU references

/** torch.argmax semantics for finite logits: the first index of the maximum. */
export function argmaxCpu(logits: Float32Array, vocab: number): Uint32Array {
  const rows = logits.length / vocab;
  const out = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < vocab; i++) if (logits[r * vocab + i] > logits[r * vocab + best]) best = i;
    out[r] = best;
  }
  return out;
}

/**
 * The kept set and its weights for one row, per the semantics at the top of this file (f64 sums).
 * Returns the scaled logits, the threshold value (keep s >= threshold), weights and their sum.
 */
export function samplingDistributionCpu(row: Float32Array, p: SamplingRowParams) {
  const invT = Math.fround(1 / p.temperature);
  const s = row.map((z) => Math.fround(z * invT));
  const desc = Array.from(s).sort((a, b) => b - a);
  const max = desc[0];
  const tauK = p.topK > 0 && p.topK < row.length ? desc[p.topK - 1] : -Infinity;
  const w = Array.from(s, (v) => Math.exp(v - max));
  let zk = 0;
  for (let i = 0; i < s.length; i++) if (s[i] >= tauK) zk += w[i];
  let threshold = tauK;
  if (p.topP < 1) {
    const limit = p.topP * zk;
    let above = 0;
    for (let i = 0; i < desc.length && desc[i] >= tauK;) {
      const value = desc[i];
      if (!(above < limit)) break;
      threshold = value;
      for (; i < desc.length && desc[i] === value; i++) above += Math.exp(value - max);
    }
  }
  let total = 0;
  for (let i = 0; i < s.length; i++) if (s[i] >= threshold) total += w[i];
  return { scaled: s, threshold, weights: w, total, max };
}

/** CPU reference of encodeSample: same semantics, f64 arithmetic, same uniform draws. */
export function sampleCpu(logits: Float32Array, vocab: number, params: SamplingRowParams[]): { tokens: Uint32Array; logprobs: Float32Array } {
  const rows = params.length;
  if (logits.length < rows * vocab) throw new Error(`sampleCpu: logits hold ${logits.length} values, fewer than ${rows} rows × ${vocab}`);
  const tokens = new Uint32Array(rows);
  const logprobs = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * vocab, (r + 1) * vocab);
    let max = -Infinity;
    for (const z of row) max = Math.max(max, z);
    let sum = 0;
    for (const z of row) sum += Math.exp(z - max);
    const p = params[r];
    let token: number;
    let samplingLogProb = 0;
    if (p.temperature === 0) {
      token = argmaxCpu(row, vocab)[0];
    } else {
      const d = samplingDistributionCpu(row, p);
      const target = samplingUniform(p.seed, p.counter) * d.total;
      token = -1;
      let last = -1;
      let acc = 0;
      for (let i = 0; i < vocab; i++) {
        if (d.scaled[i] < d.threshold) continue;
        acc += d.weights[i];
        last = i;
        if (acc > target) {
          token = i;
          break;
        }
      }
      if (token < 0) token = last;
      samplingLogProb = Math.log(d.weights[token] / d.total);
    }
    tokens[r] = token;
    logprobs[2 * r] = row[token] - max - Math.log(sum);
    logprobs[2 * r + 1] = samplingLogProb;
  }
  return { tokens, logprobs };
}
