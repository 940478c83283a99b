// Training forward and backward of the Qwen model with LoRA, on the GPU (llm.c style: buffers are
// planned once, `encodeLayerForward` is the flat sequence of ops and `encodeLayerBackward` mirrors
// it in reverse). Sequences are processed whole, without the KV cache: B rows × T tokens,
// right-padded (padding comes after the real tokens, so causal attention never sees it). A row
// holds one sequence, or several that share a prefix, packed over it (batch-layout.ts): the prefix
// runs once, per-token positions and a segment table keep each sequence's computation its own.
// The plan's B × T sizes the buffers; each micro-batch runs at its own size (its sequence count,
// and its longest sequence rounded up to SEQ_LEN_BUCKET tokens), so short batches cost what they
// hold, not the plan's maximum.
//
// Memory plan: the input of every layer (the residual stream) is saved; the rest of a layer's
// activations live in one shared set when `recompute` is on (checkpointing: each layer's forward is
// re-run just before its backward) or in one set per layer when it is off.
//
// Loss: L = −Σ_rows w_row · log p(target_row | prefix). In the plain layout row b·T + t predicts
// token t + 1 of sequence b (in general: `predictionRow`); callers set w = 0 for prompt,
// tool-response and padding tokens (and the last row).
// The LM head and log-softmax run over chunks of rows so [rows, vocab] logits never exist at once.
import type { ModelConfig } from '../../hf-io/config';
import type { GpuContext } from '../../engine/gpu/context';
import type { QwenEngine } from '../../engine/engine';
import type { QwenWeights } from '../../engine/model/qwen-weights';
import { encodeEmbedding } from '../../engine/ops/embedding';
import { encodeMatmul } from '../../engine/ops/matmul';
import { encodeRmsNorm } from '../../engine/ops/rmsnorm';
import { encodeRope, encodeRopeBackward } from '../../engine/ops/rope';
import { encodeSwiglu } from '../../engine/ops/swiglu';
import { encodeAttentionTrainForward } from '../ops/attention-backward-forward';
import { encodeAttentionBackward } from '../ops/attention-backward';
import { fusedQkvLayout, type AttentionTrainShape } from '../ops/attention-backward-common';
import { encodeLogProbBackward, encodeLogProbForward } from '../ops/logprob-backward';
import { encodeLoraBackward, encodeLoraForward } from '../../engine/ops/lora';
import type { LoraTarget } from '../../engine/ops/lora-targets';
import { encodeMatmulBackward } from '../ops/matmul-backward';
import { encodeRmsNormBackward } from '../ops/rmsnorm-backward';
import { encodeSwigluBackward } from '../ops/swiglu-backward';
import type { LoraAdapter, LoraModule } from './lora-adapter';
import { layoutBatch, predictionRow, scoredRanges, type BatchLayout, type PackedRow } from './batch-layout';
import { planTrainingModel, trainLmHeadRows, type TrainPlan } from './train-plan';
import { plannedBuffers } from '../../engine/model/buffer-plan';
import { createPlanned } from '../../engine/gpu/planned';

/** Active sequence lengths are rounded up to a multiple of this (fewer distinct dispatch sizes). */
export const SEQ_LEN_BUCKET = 16;

export type { TrainPlan } from './train-plan';

/** The step's inputs, gradients and LM-head chunk buffers (besides layer inputs and layer activations). */
const STEP_BUFFERS = [
  'ids',
  'positions',
  'segments',
  'targets',
  'weights',
  'logProbs',
  'normedF',
  'dResid',
  'dNormed',
  'dAttention',
  'dQkv',
  'dGateUp',
  'dMlpHidden',
  'du',
  'delta',
  'logits',
  'chunkTargets',
  'chunkWeights',
  'chunkLogProbs',
  'chunkDx',
] as const;

/** One layer's activations (everything its backward reads besides the saved layer input). */
interface LayerActivations {
  normed1: GPUBuffer;
  /** q|k|v before q/k norms (Qwen3 only: the norms' backward needs their input). */
  qkvPreNorm: GPUBuffer | null;
  /** q|k|v after norms and RoPE: the attention's input. */
  qkv: GPUBuffer;
  attention: GPUBuffer;
  lse: GPUBuffer;
  residMid: GPUBuffer;
  normed2: GPUBuffer;
  gateUp: GPUBuffer;
  mlpHidden: GPUBuffer;
  /** u = x·Aᵀ of each LoRA module. */
  u: Map<LoraTarget, GPUBuffer>;
}

export class TrainingModel {
  readonly config: ModelConfig;
  readonly ctx: GpuContext;
  readonly weights: QwenWeights;
  readonly lmHeadRows: number;
  /** The current micro-batch's B × T (set by setBatch; starts as the plan's). */
  private shape: AttentionTrainShape;
  private readonly layerInputs: GPUBuffer[];
  private readonly sets: LayerActivations[];
  private readonly b: Record<(typeof STEP_BUFFERS)[number], GPUBuffer>;
  private loraActiveInForward = true;
  /** The current micro-batch's placement of sequences (set by setBatch / setPackedBatch). */
  private batch: BatchLayout | null = null;

  constructor(
    engine: QwenEngine,
    readonly adapter: LoraAdapter,
    readonly plan: TrainPlan,
  ) {
    this.config = engine.config;
    this.ctx = engine.ctx;
    this.weights = engine.weights;
    const { numHeads: nH, numKvHeads: nKv, headDim: d, numLayers: L } = this.config;
    // Sizes come from the training size table (train-plan.ts); every planned buffer is made here, by name.
    const planned = plannedBuffers(planTrainingModel(this.config, plan, adapter.config), 'training model');
    const take = (name: string) => createPlanned(this.ctx, planned.take(`train.${name}`));
    this.shape = { sequences: plan.sequences, seqLen: plan.seqLen, heads: nH, kvHeads: nKv, headDim: d };
    this.lmHeadRows = trainLmHeadRows(this.config, plan);
    this.layerInputs = Array.from({ length: L + 1 }, (_, l) => take(`layerInput${l}`));
    const makeSet = (i: number): LayerActivations => ({
      normed1: take(`normed1.${i}`),
      qkvPreNorm: this.config.qkNorm ? take(`qkvPreNorm.${i}`) : null,
      qkv: take(`qkv.${i}`),
      attention: take(`attention.${i}`),
      lse: take(`lse.${i}`),
      residMid: take(`residMid.${i}`),
      normed2: take(`normed2.${i}`),
      gateUp: take(`gateUp.${i}`),
      mlpHidden: take(`mlpHidden.${i}`),
      u: new Map(adapter.config.targets.map((t) => [t, take(`u.${t}.${i}`)])),
    });
    this.sets = Array.from({ length: plan.recompute ? 1 : L }, (_, i) => makeSet(i));
    this.b = Object.fromEntries(STEP_BUFFERS.map((n) => [n, take(n)])) as TrainingModel['b'];
    planned.done();
  }

  /** Rows (B × T) of the current micro-batch: row b·T + t is token t of sequence b. */
  get rows(): number {
    return this.shape.sequences * this.shape.seqLen;
  }

  /** T of the current micro-batch (its longest sequence, rounded up to SEQ_LEN_BUCKET, ≤ plan). */
  get seqLen(): number {
    return this.shape.seqLen;
  }

  /** The segment table buffer when the batch packs sequences (plain causal kernels otherwise). */
  private get segments(): GPUBuffer | undefined {
    return this.batch?.segments ? this.b.segments : undefined;
  }

  private set(layer: number): LayerActivations {
    return this.sets[this.plan.recompute ? 0 : layer];
  }

  /**
   * Uploads a micro-batch in the plain layout: `sequences[b]` are token ids (≤ plan T; padded with
   * `padId` to the batch's own T, see `seqLen`), and `lossWeights[b][t]` (optional, default 0)
   * weights the prediction OF token t (t ≥ 1). `scoreFrom[b]` (default 1): only tokens
   * t ≥ scoreFrom[b] are scored, so the LM head runs only over those rows (RL scores completions,
   * not long prompts).
   */
  setBatch(
    sequences: readonly (readonly number[])[],
    lossWeights?: readonly (readonly number[])[],
    padId = 0,
    options: { scoreFrom?: readonly number[] } = {},
  ) {
    if (sequences.length > this.plan.sequences) throw new Error(`micro-batch of ${sequences.length} sequences, the plan holds ${this.plan.sequences}`);
    this.setPackedBatch(
      sequences.map((ids, b) => ({ prefix: 0, sequences: [{ ids, scoreFrom: Math.max(1, options.scoreFrom?.[b] ?? 1) }] })),
      padId,
    );
    const weights = new Float32Array(this.rows);
    sequences.forEach((seq, b) => {
      for (let t = 1; t < seq.length; t++) weights[predictionRow(this.layout, b, t)] = lossWeights?.[b]?.[t] ?? 0;
    });
    this.setLossWeights(weights);
  }

  /**
   * Uploads a micro-batch of rows, each one sequence or several packed over a shared prefix
   * (batch-layout.ts). Loss weights start at 0: set them with `setLossWeights` through
   * `predictionRow`, or with `setScoredWeights`.
   */
  setPackedBatch(rows: readonly PackedRow[], padId = 0) {
    if (rows.length > this.plan.sequences) throw new Error(`micro-batch of ${rows.length} rows, the plan holds ${this.plan.sequences}`);
    const layout = layoutBatch(rows, {
      maxSeqLen: this.plan.seqLen,
      maxPosition: this.weights.rope.maxPositions,
      vocabSize: this.config.vocabSize,
      padId,
      bucket: SEQ_LEN_BUCKET,
    });
    this.batch = layout;
    this.shape = { ...this.shape, sequences: layout.sequences, seqLen: layout.seqLen };
    this.ctx.write(this.b.ids, layout.ids);
    this.ctx.write(this.b.positions, layout.positions);
    if (layout.segments) this.ctx.write(this.b.segments, layout.segments);
    this.ctx.write(this.b.targets, layout.targets);
    this.setLossWeights(new Float32Array(this.rows));
    this.scoredRanges = scoredRanges(layout);
  }

  /** The current micro-batch's layout (placements of its sequences, token counts). */
  get layout(): BatchLayout {
    if (!this.batch) throw new Error('no micro-batch uploaded: call setBatch or setPackedBatch first');
    return this.batch;
  }

  /** Log-probs of each sequence's scored tokens t = scoreFrom.. (numbered across rows in order). */
  gatherScored(logProbs: Float32Array): Float32Array[] {
    return this.layout.placements.map((p, i) =>
      Float32Array.from({ length: Math.max(0, p.length - p.scoreFrom) }, (_, j) => logProbs[predictionRow(this.layout, i, p.scoreFrom + j)]),
    );
  }

  /** Sets the loss weights of each sequence's scored tokens (`weights[i][j]`: token scoreFrom + j). */
  setScoredWeights(weights: readonly ArrayLike<number>[]) {
    const rows = new Float32Array(this.rows);
    this.layout.placements.forEach((p, i) => {
      if (weights[i].length !== Math.max(0, p.length - p.scoreFrom))
        throw new Error(`sequence ${i}: ${weights[i].length} weights for ${p.length - p.scoreFrom} scored tokens`);
      for (let j = 0; j < weights[i].length; j++) rows[predictionRow(this.layout, i, p.scoreFrom + j)] = weights[i][j];
    });
    this.setLossWeights(rows);
  }

  /** Row ranges that get logits (set by setPackedBatch). */
  private scoredRanges: { start: number; count: number }[] = [];

  /** Per-row loss weights (row b·T + t predicts token t + 1), e.g. GRPO's per-token coefficients. */
  setLossWeights(weights: Float32Array) {
    if (weights.length !== this.rows) throw new Error(`loss weights: ${weights.length} values for ${this.rows} rows`);
    for (const w of weights) if (!Number.isFinite(w)) throw new Error('loss weights must be finite');
    this.ctx.write(this.b.weights, weights);
  }

  // ---------------------------------------------------------------------------------------------
  // Forward

  private encodeLayerForward(encoder: GPUCommandEncoder, l: number, lora: boolean) {
    const { ctx, config, shape } = this;
    const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, rmsNormEps: eps } = config;
    const N = this.rows;
    const w = this.weights.layers[l];
    const a = this.set(l);
    const layout = fusedQkvLayout(shape);
    const modules = this.adapter.byLayer[l];
    const loraInto = (pass: GPUComputePassEncoder, target: LoraTarget, x: GPUBuffer, y: GPUBuffer) => {
      const m = modules.get(target);
      if (lora && m) encodeLoraForward(ctx, pass, { lora: m, x, m: N, u: a.u.get(target)!, y, ySlice: m.layout.slice });
    };
    // residMid starts as the layer input; the attention block adds into it.
    encoder.copyBufferToBuffer(this.layerInputs[l], 0, a.residMid, 0, N * H * 4);
    let pass = encoder.beginComputePass({ label: `train forward ${l} attention` });
    encodeRmsNorm(ctx, pass, { x: this.layerInputs[l], out: a.normed1, weight: w.inputNorm, rows: N, length: H, eps });
    encodeMatmul(ctx, pass, { x: a.normed1, weight: w.qkv, bias: w.qkvBias, y: a.qkv, m: N });
    for (const t of ['q_proj', 'k_proj', 'v_proj'] as const) loraInto(pass, t, a.normed1, a.qkv);
    pass.end();
    if (a.qkvPreNorm) encoder.copyBufferToBuffer(a.qkv, 0, a.qkvPreNorm, 0, N * layout.tokenStride * 4);
    pass = encoder.beginComputePass({ label: `train forward ${l} attention 2` });
    if (w.qNorm && w.kNorm) {
      encodeRmsNorm(ctx, pass, { x: a.qkv, weight: w.qNorm, rows: N, groups: nH, length: d, rowStride: layout.tokenStride, eps });
      encodeRmsNorm(ctx, pass, { x: a.qkv, weight: w.kNorm, rows: N, groups: nKv, length: d, offset: layout.kOffset, rowStride: layout.tokenStride, eps });
    }
    encodeRope(ctx, pass, { x: a.qkv, table: this.weights.rope, positions: this.b.positions, tokens: N, heads: nH, tokenStride: layout.tokenStride });
    encodeRope(ctx, pass, {
      x: a.qkv,
      table: this.weights.rope,
      positions: this.b.positions,
      tokens: N,
      heads: nKv,
      offset: layout.kOffset,
      tokenStride: layout.tokenStride,
    });
    encodeAttentionTrainForward(ctx, pass, { shape, qkv: a.qkv, layout, out: a.attention, lse: a.lse, segments: this.segments });
    encodeMatmul(ctx, pass, { x: a.attention, weight: w.o, bias: w.oBias, y: a.residMid, m: N, accumulate: true });
    loraInto(pass, 'o_proj', a.attention, a.residMid);
    pass.end();
    // The layer output starts as residMid; the MLP block adds into it.
    encoder.copyBufferToBuffer(a.residMid, 0, this.layerInputs[l + 1], 0, N * H * 4);
    pass = encoder.beginComputePass({ label: `train forward ${l} mlp` });
    encodeRmsNorm(ctx, pass, { x: a.residMid, out: a.normed2, weight: w.postNorm, rows: N, length: H, eps });
    encodeMatmul(ctx, pass, { x: a.normed2, weight: w.gateUp, y: a.gateUp, m: N });
    for (const t of ['gate_proj', 'up_proj'] as const) loraInto(pass, t, a.normed2, a.gateUp);
    encodeSwiglu(ctx, pass, { gate: a.gateUp, out: a.mlpHidden, tokens: N, intermediate: I });
    encodeMatmul(ctx, pass, { x: a.mlpHidden, weight: w.down, y: this.layerInputs[l + 1], m: N, accumulate: true });
    loraInto(pass, 'down_proj', a.mlpHidden, this.layerInputs[l + 1]);
    pass.end();
  }

  /** Records embedding, every layer and the final norm. */
  private encodeForward(encoder: GPUCommandEncoder, lora: boolean) {
    const { ctx, config } = this;
    const N = this.rows;
    let pass = encoder.beginComputePass({ label: 'train forward embedding' });
    encodeEmbedding(ctx, pass, { table: this.weights.embedding, ids: this.b.ids, out: this.layerInputs[0], count: N });
    pass.end();
    for (let l = 0; l < config.numLayers; l++) this.encodeLayerForward(encoder, l, lora);
    pass = encoder.beginComputePass({ label: 'train forward final norm' });
    encodeRmsNorm(ctx, pass, {
      x: this.layerInputs[config.numLayers],
      out: this.b.normedF,
      weight: this.weights.finalNorm,
      rows: N,
      length: config.hiddenSize,
      eps: config.rmsNormEps,
    });
    pass.end();
  }

  /** The scored rows of the LM head in chunks: logits chunk, then `body` (log-prob fwd or bwd). */
  private encodeLmHeadChunks(
    encoder: GPUCommandEncoder,
    body: (pass: GPUComputePassEncoder, start: number, count: number) => void,
    after?: (encoder: GPUCommandEncoder, start: number, count: number) => void,
  ) {
    const C = this.lmHeadRows;
    for (const range of this.scoredRanges) {
      for (let start = range.start; start < range.start + range.count; start += C) {
        const count = Math.min(C, range.start + range.count - start);
        encoder.copyBufferToBuffer(this.b.targets, start * 4, this.b.chunkTargets, 0, count * 4);
        encoder.copyBufferToBuffer(this.b.weights, start * 4, this.b.chunkWeights, 0, count * 4);
        const pass = encoder.beginComputePass({ label: `lm head rows ${start}..${start + count}` });
        encodeMatmul(this.ctx, pass, { x: this.b.normedF, xRows: { offset: start, stride: 1 }, weight: this.weights.lmHead, y: this.b.logits, m: count });
        body(pass, start, count);
        pass.end();
        after?.(encoder, start, count);
      }
    }
  }

  /**
   * Runs the forward (with or without LoRA: without it this is the frozen reference policy) and
   * returns log p(target) of every row. The activations stay in place for `backward()`, which must
   * follow a forward WITH LoRA.
   */
  async forwardLogProbs(options: { lora?: boolean } = {}): Promise<Float32Array> {
    const lora = options.lora ?? true;
    this.loraActiveInForward = lora;
    const encoder = this.ctx.device.createCommandEncoder({ label: 'train forward' });
    encoder.clearBuffer(this.b.logProbs); // rows outside the scored ranges read as 0
    this.encodeForward(encoder, lora);
    const V = this.config.vocabSize;
    this.encodeLmHeadChunks(
      encoder,
      (pass, _start, count) =>
        encodeLogProbForward(this.ctx, pass, { logits: this.b.logits, targets: this.b.chunkTargets, logProbs: this.b.chunkLogProbs, rows: count, vocab: V }),
      (enc, start, count) => enc.copyBufferToBuffer(this.b.chunkLogProbs, 0, this.b.logProbs, start * 4, count * 4),
    );
    this.ctx.device.queue.submit([encoder.finish()]);
    return new Float32Array(await this.ctx.read(this.b.logProbs, this.rows * 4));
  }

  // ---------------------------------------------------------------------------------------------
  // Backward (mirror of the forward, layer by layer in reverse)

  private encodeLayerBackward(encoder: GPUCommandEncoder, l: number) {
    const { ctx, config, shape } = this;
    const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, rmsNormEps: eps } = config;
    const N = this.rows;
    const w = this.weights.layers[l];
    const a = this.set(l);
    const g = this.b;
    const layout = fusedQkvLayout(shape);
    const modules = this.adapter.byLayer[l];
    const loraBack = (pass: GPUComputePassEncoder, target: LoraTarget, dy: GPUBuffer, x: GPUBuffer, dx: GPUBuffer) => {
      const m: LoraModule | undefined = modules.get(target);
      if (m)
        encodeLoraBackward(ctx, pass, {
          lora: m,
          dy,
          dySlice: m.layout.slice,
          x,
          u: a.u.get(target)!,
          m: N,
          du: g.du,
          dA: m.dA,
          dB: m.dB,
          dx,
          dxAccumulate: true,
        });
    };
    const pass = encoder.beginComputePass({ label: `train backward ${l}` });
    // MLP block. dResid is the gradient of the layer output = residMid + down(...).
    encodeMatmulBackward(ctx, pass, { dy: g.dResid, weight: w.down, dx: g.dMlpHidden, m: N });
    loraBack(pass, 'down_proj', g.dResid, a.mlpHidden, g.dMlpHidden);
    encodeSwigluBackward(ctx, pass, { gate: a.gateUp, dOut: g.dMlpHidden, dGateUp: g.dGateUp, tokens: N, intermediate: I });
    encodeMatmulBackward(ctx, pass, { dy: g.dGateUp, weight: w.gateUp, dx: g.dNormed, m: N });
    for (const t of ['gate_proj', 'up_proj'] as const) loraBack(pass, t, g.dGateUp, a.normed2, g.dNormed);
    // Residual: d(residMid) = dResid (identity path) + rmsnorm backward of the MLP branch.
    encodeRmsNormBackward(ctx, pass, { x: a.residMid, weight: w.postNorm, dY: g.dNormed, dX: g.dResid, accumulate: true, rows: N, length: H, eps });
    // Attention block. dResid is now the gradient of residMid = layer input + o_proj(...).
    encodeMatmulBackward(ctx, pass, { dy: g.dResid, weight: w.o, dx: g.dAttention, m: N });
    loraBack(pass, 'o_proj', g.dResid, a.attention, g.dAttention);
    encodeAttentionBackward(ctx, pass, {
      shape,
      qkv: a.qkv,
      layout,
      out: a.attention,
      lse: a.lse,
      dOut: g.dAttention,
      delta: g.delta,
      dqkv: g.dQkv,
      segments: this.segments,
    });
    encodeRopeBackward(ctx, pass, { dY: g.dQkv, table: this.weights.rope, positions: g.positions, tokens: N, heads: nH, tokenStride: layout.tokenStride });
    encodeRopeBackward(ctx, pass, {
      dY: g.dQkv,
      table: this.weights.rope,
      positions: g.positions,
      tokens: N,
      heads: nKv,
      offset: layout.kOffset,
      tokenStride: layout.tokenStride,
    });
    if (w.qNorm && w.kNorm && a.qkvPreNorm) {
      encodeRmsNormBackward(ctx, pass, { x: a.qkvPreNorm, weight: w.qNorm, dY: g.dQkv, rows: N, groups: nH, length: d, rowStride: layout.tokenStride, eps });
      encodeRmsNormBackward(ctx, pass, {
        x: a.qkvPreNorm,
        weight: w.kNorm,
        dY: g.dQkv,
        rows: N,
        groups: nKv,
        length: d,
        offset: layout.kOffset,
        rowStride: layout.tokenStride,
        eps,
      });
    }
    encodeMatmulBackward(ctx, pass, { dy: g.dQkv, weight: w.qkv, dx: g.dNormed, m: N });
    for (const t of ['q_proj', 'k_proj', 'v_proj'] as const) loraBack(pass, t, g.dQkv, a.normed1, g.dNormed);
    encodeRmsNormBackward(ctx, pass, { x: this.layerInputs[l], weight: w.inputNorm, dY: g.dNormed, dX: g.dResid, accumulate: true, rows: N, length: H, eps });
    pass.end();
  }

  /**
   * Accumulates the LoRA gradients of L = −Σ w_row · log p(target_row) into the adapter's dA/dB
   * (call adapter.encodeZeroGrad first for a fresh step). Uses the activations of the last forward.
   */
  async backward(): Promise<void> {
    if (!this.loraActiveInForward) throw new Error('backward() needs the activations of a forward with LoRA on: call forwardLogProbs({ lora: true }) first');
    const { ctx, config } = this;
    const { hiddenSize: H, vocabSize: V, numLayers: L, rmsNormEps: eps } = config;
    const encoder = ctx.device.createCommandEncoder({ label: 'train backward' });
    // Rows outside the scored ranges get no gradient from the loss.
    encoder.clearBuffer(this.b.dNormed);
    // LM head + loss, chunk by chunk: dLogits in place, then dNormedF rows = dLogits · W_lm.
    this.encodeLmHeadChunks(
      encoder,
      (pass, _start, count) => {
        encodeLogProbBackward(ctx, pass, { logits: this.b.logits, targets: this.b.chunkTargets, weights: this.b.chunkWeights, rows: count, vocab: V });
        encodeMatmulBackward(ctx, pass, { dy: this.b.logits, weight: this.weights.lmHead, dx: this.b.chunkDx, m: count });
      },
      (enc, start, count) => enc.copyBufferToBuffer(this.b.chunkDx, 0, this.b.dNormed, start * H * 4, count * H * 4),
    );
    const pass = encoder.beginComputePass({ label: 'train backward final norm' });
    encodeRmsNormBackward(ctx, pass, {
      x: this.layerInputs[L],
      weight: this.weights.finalNorm,
      dY: this.b.dNormed,
      dX: this.b.dResid,
      rows: this.rows,
      length: H,
      eps,
    });
    pass.end();
    for (let l = L - 1; l >= 0; l--) {
      if (this.plan.recompute) this.encodeLayerForward(encoder, l, true);
      this.encodeLayerBackward(encoder, l);
    }
    ctx.device.queue.submit([encoder.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
  }

  destroy() {
    for (const buffer of [...this.layerInputs, ...Object.values(this.b)]) this.ctx.destroy(buffer);
    for (const s of this.sets) {
      for (const buffer of [s.normed1, s.qkvPreNorm, s.qkv, s.attention, s.lse, s.residMid, s.normed2, s.gateUp, s.mlpHidden, ...s.u.values()])
        if (buffer) this.ctx.destroy(buffer);
    }
    this.ctx.clearBindGroups();
  }
}
