// The KV cache: per layer, K and V of every sequence slot, laid out
//   [slot][kvHead][position][headDim]
// so one (slot, kv head) history is a contiguous [maxSeq, headDim] block that attention streams.
// Values are f32, or f16 (dtype 'f16') packed two per u32 word with pack2x16float — a core WGSL
// builtin, so it needs no shader-f16 — halving cache memory (Qwen3-0.6B: 224 KiB per token in
// f32) at the cost of f16 rounding of K and V, as in HF runs with an f16/bf16 model dtype.
//
// A layer's K (or V) may not fit in one storage binding (maxStorageBufferBindingSize), so each
// is split along slots into chunk buffers of `slotsPerChunk` whole slots; kernels run once per
// chunk and touch only the tokens whose slot lives in it. Slot s is in chunk
// floor(s / slotsPerChunk) at local index s % slotsPerChunk.
//
// encodeKvWrite stores this step's K and V (after RoPE) at each token's (slot, position). Tokens
// whose slot is out of range or whose position >= maxSeq are skipped: the engine validates slots
// and positions on the CPU when it fills those buffers.
import { ceilDiv, type GpuContext } from '../gpu/context';
import { roundToF16 } from '../quant/f16-bits';

const WORKGROUP = 256;

export interface KvCacheConfig {
  layers: number;
  /** Sequences that can be cached at once (batch slots). */
  slots: number;
  kvHeads: number;
  headDim: number;
  /** Positions per slot (context length). */
  maxSeq: number;
  /** Storage precision; default 'f32'. 'f16' requires an even head_dim. */
  dtype?: 'f32' | 'f16';
  /** Largest chunk buffer in bytes; defaults to the device's binding limit. Tests set it small. */
  maxChunkBytes?: number;
}

/** Cache elements per u32 word: 2 for packed f16, 1 for f32. */
export function kvElementsPerWord(config: Pick<KvCacheConfig, 'dtype'>): number {
  return config.dtype === 'f16' ? 2 : 1;
}

/** What sizes a cache: KvCacheConfig without the device-dependent chunk limit. */
export type KvCacheShape = Pick<KvCacheConfig, 'layers' | 'slots' | 'kvHeads' | 'headDim' | 'maxSeq' | 'dtype'>;

/**
 * How a cache is split under a `limitBytes` buffer limit: whole slots per chunk, and each chunk's
 * bytes (one K or V buffer of one layer). The one size rule of the cache: the constructor allocates
 * these, and the engine's size table (model/buffer-plan.ts) lists them.
 */
export function kvCacheChunks(
  shape: KvCacheShape,
  limitBytes: number,
): { slotsPerChunk: number; chunks: { slotBase: number; slotCount: number; bytes: number }[] } {
  const { slots, kvHeads, headDim, maxSeq } = shape;
  const slotBytes = (kvHeads * maxSeq * headDim * 4) / kvElementsPerWord(shape);
  if (slotBytes > limitBytes) {
    throw new Error(
      `KV cache: one slot needs ${slotBytes} bytes per layer (${kvHeads} kv heads × ${maxSeq} positions × head_dim ${headDim} × ${slotBytes / (kvHeads * maxSeq * headDim)} bytes), over the ${limitBytes}-byte binding limit; use a shorter context`,
    );
  }
  const slotsPerChunk = Math.min(slots, Math.floor(limitBytes / slotBytes));
  const chunks = [];
  for (let slotBase = 0; slotBase < slots; slotBase += slotsPerChunk) {
    const slotCount = Math.min(slotsPerChunk, slots - slotBase);
    chunks.push({ slotBase, slotCount, bytes: slotCount * slotBytes });
  }
  return { slotsPerChunk, chunks };
}

/** Label of a layer's K or V chunk buffer starting at `slotBase`. */
export function kvBufferName(layer: number, which: 'k' | 'v', slotBase: number): string {
  return `kv-cache.L${layer}.${which}[${slotBase}]`;
}

export interface KvChunk {
  /** First slot held by this chunk. */
  slotBase: number;
  /** Slots held (the last chunk may hold fewer than slotsPerChunk). */
  slotCount: number;
  k: GPUBuffer;
  v: GPUBuffer;
}

export class KvCache {
  readonly slotsPerChunk: number;
  /** layers[layer] = the chunks of that layer, in slot order. */
  readonly layers: KvChunk[][];

  constructor(
    private readonly ctx: GpuContext,
    readonly config: KvCacheConfig,
  ) {
    const { layers, slots, kvHeads, headDim, maxSeq } = config;
    for (const [name, value] of Object.entries({ layers, slots, kvHeads, headDim, maxSeq })) {
      if (!Number.isInteger(value) || value <= 0) throw new Error(`KV cache: ${name} must be a positive integer, got ${value}`);
    }
    if (config.dtype !== undefined && config.dtype !== 'f32' && config.dtype !== 'f16')
      throw new Error(`KV cache: dtype must be 'f32' or 'f16', got ${String(config.dtype)}`);
    if (config.dtype === 'f16' && headDim % 2 !== 0) throw new Error(`KV cache: an f16 cache needs an even head_dim, got ${headDim}`);
    const limit = Math.min(config.maxChunkBytes ?? ctx.maxBindingBytes, ctx.maxBindingBytes);
    const plan = kvCacheChunks(config, limit);
    this.slotsPerChunk = plan.slotsPerChunk;
    this.layers = [];
    for (let layer = 0; layer < layers; layer++) {
      const chunks: KvChunk[] = plan.chunks.map(({ slotBase, slotCount, bytes }) => ({
        slotBase,
        slotCount,
        k: ctx.createBuffer(kvBufferName(layer, 'k', slotBase), bytes, 'kv-cache'),
        v: ctx.createBuffer(kvBufferName(layer, 'v', slotBase), bytes, 'kv-cache'),
      }));
      this.layers.push(chunks);
    }
  }

  chunksOf(layer: number): KvChunk[] {
    const chunks = this.layers[layer];
    if (!chunks) throw new Error(`KV cache: layer ${layer} is out of range (${this.config.layers} layers)`);
    return chunks;
  }

  destroy() {
    for (const chunks of this.layers) {
      for (const chunk of chunks) {
        this.ctx.destroy(chunk.k);
        this.ctx.destroy(chunk.v);
      }
    }
    this.ctx.clearBindGroups();
  }
}

/**
 * CPU-side check of a step's per-token slots and positions before they are uploaded: the kernels
 * skip out-of-range tokens silently (a GPU cannot throw), so the engine calls this first.
 */
export function checkTokenPlacement(config: Pick<KvCacheConfig, 'slots' | 'maxSeq'>, slots: ArrayLike<number>, positions: ArrayLike<number>) {
  if (slots.length !== positions.length) throw new Error(`KV cache: ${slots.length} slots but ${positions.length} positions for one step`);
  for (let t = 0; t < slots.length; t++) {
    if (!Number.isInteger(slots[t]) || slots[t] < 0 || slots[t] >= config.slots)
      throw new Error(`KV cache: token ${t} has slot ${slots[t]}, outside the cache's ${config.slots} slots`);
    if (!Number.isInteger(positions[t]) || positions[t] < 0 || positions[t] >= config.maxSeq) {
      throw new Error(`KV cache: token ${t} has position ${positions[t]}, outside the context length of ${config.maxSeq}`);
    }
  }
}

export interface KvWriteArgs {
  cache: KvCache;
  layer: number;
  /** K after RoPE: [tokens, kvHeads, headDim] at kOffset with tokenStride (may be a fused QKV buffer). */
  k: GPUBuffer;
  /** V: like k, at vOffset (may be the same buffer as k). */
  v: GPUBuffer;
  /** u32 [tokens]: cache slot of each token. */
  slots: GPUBuffer;
  /** u32 [tokens]: position of each token in its sequence. */
  positions: GPUBuffer;
  tokens: number;
  kOffset?: number;
  vOffset?: number;
  /** Elements between consecutive tokens in k and v; default kvHeads * headDim. */
  tokenStride?: number;
}

export function kvWriteWgsl(c: KvCacheConfig, kOffset: number, vOffset: number, tokenStride: number): string {
  const rowLength = c.kvHeads * c.headDim;
  const f16 = c.dtype === 'f16';
  // f32: one thread per value; f16: one thread per packed pair of adjacent dims.
  const per = f16 ? 2 : 1;
  const cacheType = f16 ? 'u32' : 'f32';
  const store = f16
    ? `let src = token * TOKEN_STRIDE + within;
  kCache[dst / 2u] = pack2x16float(vec2f(kSrc[K_OFFSET + src], kSrc[K_OFFSET + src + 1u]));
  vCache[dst / 2u] = pack2x16float(vec2f(vSrc[V_OFFSET + src], vSrc[V_OFFSET + src + 1u]));`
    : `kCache[dst] = kSrc[K_OFFSET + token * TOKEN_STRIDE + within];
  vCache[dst] = vSrc[V_OFFSET + token * TOKEN_STRIDE + within];`;
  return /* wgsl */ `
struct Params { tokens: u32, slotBase: u32, slotCount: u32 }
@group(0) @binding(0) var<storage, read> kSrc: array<f32>;
@group(0) @binding(1) var<storage, read> vSrc: array<f32>;
@group(0) @binding(2) var<storage, read_write> kCache: array<${cacheType}>;
@group(0) @binding(3) var<storage, read_write> vCache: array<${cacheType}>;
@group(0) @binding(4) var<storage, read> slots: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<uniform> params: Params;

const HEAD_DIM = ${c.headDim}u;
const ROW = ${rowLength}u;
const PER = ${per}u;
const KV_HEADS = ${c.kvHeads}u;
const MAX_SEQ = ${c.maxSeq}u;
const K_OFFSET = ${kOffset}u;
const V_OFFSET = ${vOffset}u;
const TOKEN_STRIDE = ${tokenStride}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (index >= params.tokens * (ROW / PER)) { return; }
  let token = index / (ROW / PER);
  let within = (index % (ROW / PER)) * PER;
  let slot = slots[token];
  let position = positions[token];
  if (slot < params.slotBase || slot - params.slotBase >= params.slotCount || position >= MAX_SEQ) { return; }
  let head = within / HEAD_DIM;
  let dim = within % HEAD_DIM;
  let dst = (((slot - params.slotBase) * KV_HEADS + head) * MAX_SEQ + position) * HEAD_DIM + dim;
  ${store}
}`;
}

export function encodeKvWrite(ctx: GpuContext, pass: GPUComputePassEncoder, args: KvWriteArgs) {
  const c = args.cache.config;
  const rowLength = c.kvHeads * c.headDim;
  const kOffset = args.kOffset ?? 0;
  const vOffset = args.vOffset ?? 0;
  const tokenStride = args.tokenStride ?? rowLength;
  const { tokens } = args;
  for (const [name, value] of Object.entries({ tokens, kOffset, vOffset, tokenStride })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`kvWrite: ${name} must be a non-negative integer, got ${value}`);
  }
  if (tokenStride < rowLength) throw new Error(`kvWrite: tokenStride ${tokenStride} is smaller than kvHeads × head_dim = ${rowLength}`);
  const reach = (offset: number) => (tokens === 0 ? 0 : offset + (tokens - 1) * tokenStride + rowLength);
  if (args.k.size < reach(kOffset) * 4) throw new Error(`kvWrite: k holds ${args.k.size / 4} f32 values but ${tokens} tokens reach ${reach(kOffset)}`);
  if (args.v.size < reach(vOffset) * 4) throw new Error(`kvWrite: v holds ${args.v.size / 4} f32 values but ${tokens} tokens reach ${reach(vOffset)}`);
  if (args.slots.size < tokens * 4 || args.positions.size < tokens * 4) throw new Error(`kvWrite: slots and positions must hold ${tokens} u32 values`);
  const pipeline = ctx.pipeline(kvWriteWgsl(c, kOffset, vOffset, tokenStride));
  const groups = ceilDiv((tokens * rowLength) / kvElementsPerWord(c), WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  for (const chunk of args.cache.chunksOf(args.layer)) {
    const params = ctx.params([tokens, chunk.slotBase, chunk.slotCount]);
    ctx.dispatch(pass, pipeline, [args.k, args.v, chunk.k, chunk.v, args.slots, args.positions, params], [x, ceilDiv(groups, x)]);
  }
}

export interface KvCopyArgs {
  cache: KvCache;
  fromSlot: number;
  toSlot: number;
  /** Positions [0, length) are copied, in every layer and kv head. */
  length: number;
}

export function kvCopyWgsl(c: KvCacheConfig, sameBuffer: boolean): string {
  // Copies raw u32 words (bit-exact for f32 and packed f16 alike).
  const bindings = sameBuffer
    ? `@group(0) @binding(0) var<storage, read_write> kDst: array<u32>;
@group(0) @binding(1) var<storage, read_write> vDst: array<u32>;`
    : `@group(0) @binding(0) var<storage, read_write> kDst: array<u32>;
@group(0) @binding(1) var<storage, read_write> vDst: array<u32>;
@group(0) @binding(3) var<storage, read> kSrc: array<u32>;
@group(0) @binding(4) var<storage, read> vSrc: array<u32>;`;
  const [kSrc, vSrc] = sameBuffer ? ['kDst', 'vDst'] : ['kSrc', 'vSrc'];
  const rowWords = c.headDim / kvElementsPerWord(c);
  return /* wgsl */ `
struct Params { length: u32, srcBase: u32, dstBase: u32 }
${bindings}
@group(0) @binding(2) var<uniform> params: Params;

const ROW_WORDS = ${rowWords}u;
const HEAD_BLOCK = ${c.maxSeq * rowWords}u;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * ${WORKGROUP}u;
  let perHead = params.length * ROW_WORDS;
  if (index >= ${c.kvHeads}u * perHead) { return; }
  let offset = (index / perHead) * HEAD_BLOCK + index % perHead;
  kDst[params.dstBase + offset] = ${kSrc}[params.srcBase + offset];
  vDst[params.dstBase + offset] = ${vSrc}[params.srcBase + offset];
}`;
}

/**
 * Copies the first `length` cached positions of one slot to another in every layer, e.g. to fork
 * a prefilled prompt into the G rollouts of a GRPO group instead of prefilling it G times.
 */
export function encodeKvCopy(ctx: GpuContext, pass: GPUComputePassEncoder, args: KvCopyArgs) {
  const { cache, fromSlot, toSlot, length } = args;
  const c = cache.config;
  for (const [name, slot] of [
    ['fromSlot', fromSlot],
    ['toSlot', toSlot],
  ] as const) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= c.slots) throw new Error(`kvCopy: ${name} ${slot} is out of range (${c.slots} slots)`);
  }
  if (!Number.isInteger(length) || length < 0 || length > c.maxSeq) throw new Error(`kvCopy: length ${length} must be an integer in [0, ${c.maxSeq}]`);
  if (fromSlot === toSlot || length === 0) return;
  const slotWords = (c.kvHeads * c.maxSeq * c.headDim) / kvElementsPerWord(c);
  const per = cache.slotsPerChunk;
  const [srcChunk, dstChunk] = [Math.floor(fromSlot / per), Math.floor(toSlot / per)];
  const params = ctx.params([length, (fromSlot % per) * slotWords, (toSlot % per) * slotWords]);
  const sameBuffer = srcChunk === dstChunk;
  const pipeline = ctx.pipeline(kvCopyWgsl(c, sameBuffer));
  const groups = ceilDiv((c.kvHeads * length * c.headDim) / kvElementsPerWord(c), WORKGROUP);
  const x = Math.min(groups, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  for (let layer = 0; layer < c.layers; layer++) {
    const chunks = cache.chunksOf(layer);
    const [src, dst] = [chunks[srcChunk], chunks[dstChunk]];
    const bindings = sameBuffer ? [dst.k, dst.v, params] : [dst.k, dst.v, params, src.k, src.v];
    ctx.dispatch(pass, pipeline, bindings, [x, ceilDiv(groups, x)]);
  }
}

/** CPU mirror of one layer of the cache, same [slot][kvHead][position][headDim] layout, values as f32. */
export class KvCacheCpu {
  readonly k: Float32Array;
  readonly v: Float32Array;

  constructor(readonly config: Pick<KvCacheConfig, 'slots' | 'kvHeads' | 'headDim' | 'maxSeq' | 'dtype'>) {
    const size = config.slots * config.kvHeads * config.maxSeq * config.headDim;
    this.k = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  index(slot: number, head: number, position: number): number {
    const c = this.config;
    return ((slot * c.kvHeads + head) * c.maxSeq + position) * c.headDim;
  }

  /** kvCopy's CPU reference for this layer. */
  copySlot(fromSlot: number, toSlot: number, length: number) {
    for (let h = 0; h < this.config.kvHeads; h++) {
      const src = this.index(fromSlot, h, 0);
      const dst = this.index(toSlot, h, 0);
      const n = length * this.config.headDim;
      this.k.copyWithin(dst, src, src + n);
      this.v.copyWithin(dst, src, src + n);
    }
  }

  /** kvWrite's CPU reference: k and v are contiguous [tokens, kvHeads, headDim]. */
  write(k: Float32Array, v: Float32Array, slots: ArrayLike<number>, positions: ArrayLike<number>) {
    const { kvHeads, headDim, maxSeq } = this.config;
    for (let t = 0; t < slots.length; t++) {
      if (slots[t] >= this.config.slots || positions[t] >= maxSeq) continue;
      for (let h = 0; h < kvHeads; h++) {
        const src = (t * kvHeads + h) * headDim;
        const dst = this.index(slots[t], h, positions[t]);
        const round = this.config.dtype === 'f16' ? roundToF16 : (value: number) => value;
        for (let d = 0; d < headDim; d++) {
          this.k[dst + d] = round(k[src + d]);
          this.v[dst + d] = round(v[src + d]);
        }
      }
    }
  }
}
