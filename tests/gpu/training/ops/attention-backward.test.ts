import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { attentionCpu } from '../../../../src/engine/ops/attention';
import { encodeMatmul } from '../../../../src/engine/ops/matmul';
import { packWeight, unpackWeight } from '../../../../src/engine/quant/pack';
import { uploadWeight } from '../../../../src/engine/weights';
import { encodeLoraBackward, encodeLoraForward, loraForwardCpu } from '../../../../src/engine/ops/lora';
import { loraTargetLayout } from '../../../../src/engine/ops/lora-targets';
import { encodeMatmulBackward } from '../../../../src/training/ops/matmul-backward';
import { KvCacheCpu } from '../../../../src/engine/ops/kv-cache';
import { attentionBackwardCpu, encodeAttentionBackward } from '../../../../src/training/ops/attention-backward';
import { fusedQkvLayout, type AttentionTrainShape, type QkvLayout } from '../../../../src/training/ops/attention-backward-common';
import { attentionTrainForwardCpu, encodeAttentionTrainForward } from '../../../../src/training/ops/attention-backward-forward';
import { dot, expectGradClose, finiteDifferenceGrad, randomFloat64 } from '../../../helpers/finite-difference';
import { getTestDevice } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

// One context per file, so its pipeline cache compiles each shader once (SwiftShader is slow).
let shared: Promise<GpuContext> | undefined;
function testContext(): Promise<GpuContext> {
  shared ??= getTestDevice().then(({ device }) => new GpuContext(device));
  return shared;
}

async function run(ctx: GpuContext, encode: (pass: GPUComputePassEncoder) => void, outputs: GPUBuffer[]): Promise<Float32Array[]> {
  ctx.device.pushErrorScope('validation');
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const error = await ctx.device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return Promise.all(outputs.map(async (b) => new Float32Array(await ctx.read(b))));
}

/** A fused layout with a gap before q and after v, so offsets and strides are really used. */
function paddedLayout(s: AttentionTrainShape): QkvLayout {
  const f = fusedQkvLayout(s);
  return { qOffset: 3, kOffset: 3 + f.kOffset, vOffset: 3 + f.vOffset, tokenStride: f.tokenStride + 5 };
}

function qkvLength(s: AttentionTrainShape, l: QkvLayout) {
  return s.sequences * s.seqLen * l.tokenStride + 3;
}

describe('training attention CPU references', () => {
  it('the forward equals the engine attention over a KV cache filled with the same K/V', () => {
    const s: AttentionTrainShape = { sequences: 2, seqLen: 4, heads: 4, kvHeads: 2, headDim: 6 };
    const l = paddedLayout(s);
    const qkv = randomArray(qkvLength(s, l), 1);
    const tokens = s.sequences * s.seqLen;
    const cache = new KvCacheCpu({ slots: s.sequences, kvHeads: s.kvHeads, headDim: s.headDim, maxSeq: s.seqLen });
    const pick = (offset: number, width: number) => {
      const out = new Float32Array(tokens * width);
      for (let t = 0; t < tokens; t++) out.set(qkv.subarray(offset + t * l.tokenStride, offset + t * l.tokenStride + width), t * width);
      return out;
    };
    const slots = Array.from({ length: tokens }, (_, t) => Math.floor(t / s.seqLen));
    const positions = Array.from({ length: tokens }, (_, t) => t % s.seqLen);
    cache.write(pick(l.kOffset, s.kvHeads * s.headDim), pick(l.vOffset, s.kvHeads * s.headDim), slots, positions);
    const engine = attentionCpu(pick(l.qOffset, s.heads * s.headDim), cache, slots, positions, s.heads);
    expect(maxAbsDiff(attentionTrainForwardCpu(qkv, s, l).out, engine)).toBeLessThan(1e-6);
  });

  it('the backward is the gradient of Σ g ⊙ attention(qkv) w.r.t. Q, K and V (central differences)', () => {
    const s: AttentionTrainShape = { sequences: 2, seqLen: 3, heads: 4, kvHeads: 2, headDim: 4 };
    const l = paddedLayout(s);
    const qkv = randomFloat64(qkvLength(s, l), 2, 1.5);
    const g = randomFloat64(s.sequences * s.seqLen * s.heads * s.headDim, 3);
    const numeric = finiteDifferenceGrad((x) => dot(g, attentionTrainForwardCpu(x, s, l).out), qkv);
    expectGradClose(attentionBackwardCpu(qkv, g, s, l), numeric, { rtol: 1e-5, atol: 1e-8 });
  });
});

// T 1 (a single key), 5 and 67 (keys span two 64-wide tiles); B 1 and 2; GQA ratio 1 and 2;
// head_dim 24 (2 key groups of 32 lanes), 6 (8 key groups of 8 lanes, with T 131: three tiles
// and groups that get no key in the last one) and 72 (one key group, two dims per thread).
const CASES: AttentionTrainShape[] = [
  { sequences: 1, seqLen: 1, heads: 2, kvHeads: 2, headDim: 24 },
  { sequences: 2, seqLen: 5, heads: 4, kvHeads: 2, headDim: 24 },
  { sequences: 2, seqLen: 131, heads: 4, kvHeads: 2, headDim: 6 },
  { sequences: 2, seqLen: 67, heads: 2, kvHeads: 1, headDim: 72 },
];

describe('training attention on the GPU', () => {
  // f32 vs float64: dot products of ≤ 72 terms, softmax over ≤ 131 keys, then ≤ 131·2 terms per
  // gradient with the cancellation in dP − D: NMSE ~1e-13..1e-12. 1e-9 still fails any masking,
  // head-mapping or layout mistake by orders of magnitude.
  // Both kernels: tiled (GPUs) and serial (barrier-free, the default on SwiftShader).
  const KERNEL_CASES = (['tiled', 'serial'] as const).flatMap((kernel) => CASES.map((s) => ({ ...s, kernel })));
  it.each(KERNEL_CASES)(
    'forward and backward match float64 ($kernel): B=$sequences T=$seqLen heads=$heads kv=$kvHeads d=$headDim',
    async ({ kernel, ...s }) => {
      const ctx = await testContext();
      const l = paddedLayout(s);
      const rows = s.sequences * s.seqLen * s.heads;
      const qkv = randomArray(qkvLength(s, l), s.seqLen + s.heads, 1.5);
      const dOut = randomArray(rows * s.headDim, 5);
      const qkvBuf = ctx.upload('qkv', qkv, 'activations');
      const out = ctx.createBuffer('out', rows * s.headDim * 4, 'activations');
      const lse = ctx.createBuffer('lse', rows * 4, 'activations');
      const dqkv = ctx.upload('dqkv', randomArray(qkv.length, 6, 100), 'activations'); // gaps must survive
      const dqkvBefore = new Float32Array(await ctx.read(dqkv));
      const [outGot, lseGot, gradGot] = await run(
        ctx,
        (pass) => {
          encodeAttentionTrainForward(ctx, pass, { shape: s, qkv: qkvBuf, layout: l, out, lse, kernel });
          encodeAttentionBackward(ctx, pass, {
            shape: s,
            qkv: qkvBuf,
            layout: l,
            out,
            lse,
            dOut: ctx.upload('dOut', dOut, 'activations'),
            delta: ctx.createBuffer('delta', rows * 4, 'scratch'),
            dqkv,
            kernel,
          });
        },
        [out, lse, dqkv],
      );
      const want = attentionTrainForwardCpu(qkv, s, l);
      expect(nmse(outGot, want.out)).toBeLessThan(1e-10);
      expect(maxAbsDiff(lseGot, want.lse)).toBeLessThan(1e-5);
      const grad = attentionBackwardCpu(qkv, dOut, s, l);
      // Q/K/V entries hold the gradient; every other entry (the gaps) is untouched.
      const inView = new Uint8Array(qkv.length);
      for (let t = 0; t < s.sequences * s.seqLen; t++) {
        inView.fill(1, l.qOffset + t * l.tokenStride, l.vOffset + t * l.tokenStride + s.kvHeads * s.headDim);
      }
      const gotView = gradGot.filter((_, i) => inView[i]);
      expect(
        nmse(
          gotView,
          grad.filter((_, i) => inView[i]),
        ),
      ).toBeLessThan(1e-9);
      expect(gradGot.filter((_, i) => !inView[i])).toEqual(dqkvBefore.filter((_, i) => !inView[i]));
    },
  );

  it.each(['tiled', 'serial'] as const)('writes gradients into a different layout than the inputs (gradLayout, %s)', async (kernel) => {
    const ctx = await testContext();
    const s = CASES[1];
    const l = paddedLayout(s);
    const gradLayout = fusedQkvLayout(s);
    const tokens = s.sequences * s.seqLen;
    const rows = tokens * s.heads;
    const qkv = randomArray(qkvLength(s, l), 11, 1.5);
    const dOut = randomArray(rows * s.headDim, 12);
    const want = attentionTrainForwardCpu(qkv, s, l);
    const dqkv = ctx.createBuffer('dqkv', tokens * gradLayout.tokenStride * 4, 'activations');
    const [got] = await run(
      ctx,
      (pass) =>
        encodeAttentionBackward(ctx, pass, {
          shape: s,
          qkv: ctx.upload('qkv', qkv, 'activations'),
          layout: l,
          gradLayout,
          out: ctx.upload('out', Float32Array.from(want.out), 'activations'),
          lse: ctx.upload('lse', Float32Array.from(want.lse), 'activations'),
          dOut: ctx.upload('dOut', dOut, 'activations'),
          delta: ctx.createBuffer('delta', rows * 4, 'scratch'),
          dqkv,
          kernel,
        }),
      [dqkv],
    );
    const grad = attentionBackwardCpu(qkv, dOut, s, l);
    const expected = new Float64Array(tokens * gradLayout.tokenStride);
    for (let t = 0; t < tokens; t++)
      expected.set(grad.subarray(l.qOffset + t * l.tokenStride, l.qOffset + t * l.tokenStride + gradLayout.tokenStride), t * gradLayout.tokenStride);
    expect(nmse(got, expected)).toBeLessThan(1e-9);
  });

  it('rejects bad shapes, short buffers and aliasing with named errors', async () => {
    const ctx = await testContext();
    const s = CASES[1];
    const l = fusedQkvLayout(s);
    const rows = s.sequences * s.seqLen * s.heads;
    const qkv = ctx.createBuffer('qkv', s.sequences * s.seqLen * l.tokenStride * 4, 'activations');
    const out = ctx.createBuffer('out', rows * s.headDim * 4, 'activations');
    const lse = ctx.createBuffer('lse', rows * 4, 'activations');
    const delta = ctx.createBuffer('delta', rows * 4, 'scratch');
    const dqkv = ctx.createBuffer('dqkv', qkv.size, 'activations');
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const args = { shape: s, qkv, layout: l, out, lse, dOut: out, delta, dqkv };
    expect(() => encodeAttentionBackward(ctx, pass, { ...args, shape: { ...s, heads: 3 } })).toThrow(
      /attentionBackward: 3 query heads is not a multiple of 2 kv heads/,
    );
    expect(() => encodeAttentionBackward(ctx, pass, { ...args, shape: { ...s, seqLen: 6 } })).toThrow(/qkv holds 1920 f32 values, 12 tokens reach 2304/);
    expect(() => encodeAttentionBackward(ctx, pass, { ...args, layout: { ...l, tokenStride: 90 } })).toThrow(/tokenStride 90 is smaller/);
    expect(() => encodeAttentionBackward(ctx, pass, { ...args, dqkv: qkv })).toThrow(/qkv must not share a buffer/);
    expect(() => encodeAttentionBackward(ctx, pass, { ...args, lse: delta })).toThrow(/lse must not share/);
    expect(() => encodeAttentionTrainForward(ctx, pass, { shape: s, qkv, layout: l, out, lse: ctx.createBuffer('short', 8, 'scratch') })).toThrow(
      /attentionTrainForward: lse holds 2 f32 values/,
    );
    pass.end();
    encoder.finish();
  });
});

describe('attention block backward: the training ops composed', () => {
  // y = attention(x·Wqkvᵀ + LoRA q/k/v) · Woᵀ + LoRA o, without RoPE or norms: the GPU gradients of
  // Σ g ⊙ y w.r.t. x and the adapters (matmul backward through a q8 weight, LoRA backward on the
  // column slices of the fused d(qkv), attention backward between) against float64 central
  // differences of the composed CPU forward. f32 GPU vs float64 gives NMSE ~1e-12; 1e-8 catches
  // any wiring mistake (a wrong slice, a missing accumulation) by orders of magnitude.
  it('matches central differences of the whole block', async () => {
    const ctx = await testContext();
    const s: AttentionTrainShape = { sequences: 2, seqLen: 3, heads: 2, kvHeads: 1, headDim: 4 };
    const config = { hiddenSize: 8, intermediateSize: 1, numHeads: s.heads, numKvHeads: s.kvHeads, headDim: s.headDim };
    const H = config.hiddenSize;
    const m = s.sequences * s.seqLen;
    const layout = fusedQkvLayout(s);
    const width = layout.tokenStride;
    const attnWidth = s.heads * s.headDim;
    const rank = 2;
    const qkvW = uploadWeight(ctx, 'qkv', { shape: [width, H], values: randomArray(width * H, 101, 0.5) }, 'q8');
    const oW = uploadWeight(ctx, 'o', { shape: [H, attnWidth], values: randomArray(H * attnWidth, 102, 0.5) }, 'f32');
    const qkvDeq = Float64Array.from(unpackWeight(packWeight(randomArray(width * H, 101, 0.5), width, H, 'q8')));
    const oDeq = Float64Array.from(randomArray(H * attnWidth, 102, 0.5));
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
    const adapters = targets.map((target, i) => {
      const t = loraTargetLayout(config, target);
      return { t, a: randomFloat64(rank * t.inFeatures, 110 + i, 0.5), b: randomFloat64(t.outFeatures * rank, 120 + i, 0.5) };
    });
    const x = randomFloat64(m * H, 103);
    const g = randomFloat64(m * H, 104);

    const linear = (input: Float64Array, w: Float64Array, n: number, k: number) => {
      const y = new Float64Array(m * n);
      for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) for (let i = 0; i < k; i++) y[r * n + c] += input[r * k + i] * w[c * k + i];
      return y;
    };
    const lossOf = (xx: Float64Array, ab: { a: Float64Array; b: Float64Array }[]) => {
      const qkv = linear(xx, qkvDeq, width, H);
      for (let i = 0; i < 3; i++) {
        const { t } = adapters[i];
        const { delta } = loraForwardCpu({ ...ab[i], rank, inFeatures: H, outFeatures: t.outFeatures, scaling: 1.5 }, xx, m);
        for (let r = 0; r < m; r++) for (let c = 0; c < t.outFeatures; c++) qkv[r * width + t.slice.colOffset + c] += delta[r * t.outFeatures + c];
      }
      const attn = attentionTrainForwardCpu(qkv, s, layout).out;
      const y = linear(attn, oDeq, H, attnWidth);
      const { delta } = loraForwardCpu({ ...ab[3], rank, inFeatures: attnWidth, outFeatures: H, scaling: 1.5 }, attn, m);
      return dot(g, y) + dot(g, delta);
    };
    const params = adapters.map(({ a, b }) => ({ a, b }));

    const f32 = (v: Float64Array) => Float32Array.from(v);
    const xBuf = ctx.upload('x', f32(x), 'activations');
    const modules = adapters.map(({ t, a, b }, i) => ({
      t,
      lora: {
        name: targets[i],
        a: ctx.upload('A', f32(a), 'lora'),
        b: ctx.upload('B', f32(b), 'lora'),
        rank,
        inFeatures: t.inFeatures,
        outFeatures: t.outFeatures,
        scaling: 1.5,
      },
      u: ctx.createBuffer('u', m * rank * 4, 'activations'),
      dA: ctx.createBuffer('dA', rank * t.inFeatures * 4, 'lora'),
      dB: ctx.createBuffer('dB', t.outFeatures * rank * 4, 'lora'),
    }));
    const qkv = ctx.createBuffer('qkv', m * width * 4, 'activations');
    const out = ctx.createBuffer('out', m * attnWidth * 4, 'activations');
    const lse = ctx.createBuffer('lse', m * s.heads * 4, 'activations');
    const y = ctx.createBuffer('y', m * H * 4, 'activations');
    const dY = ctx.upload('dY', f32(g), 'activations');
    const dAttn = ctx.createBuffer('dAttn', m * attnWidth * 4, 'activations');
    const dqkv = ctx.createBuffer('dqkv', m * width * 4, 'activations');
    const dX = ctx.createBuffer('dX', m * H * 4, 'activations');
    const du = ctx.createBuffer('du', m * rank * 4, 'scratch');
    const o = modules[3];
    const outputs = [dX, ...modules.flatMap((mod) => [mod.dA, mod.dB])];
    const [dXGot, ...adapterGrads] = await run(
      ctx,
      (pass) => {
        encodeMatmul(ctx, pass, { x: xBuf, weight: qkvW, y: qkv, m });
        for (const mod of modules.slice(0, 3)) encodeLoraForward(ctx, pass, { lora: mod.lora, x: xBuf, m, u: mod.u, y: qkv, ySlice: mod.t.slice });
        encodeAttentionTrainForward(ctx, pass, { shape: s, qkv, layout, out, lse });
        encodeLoraForward(ctx, pass, { lora: o.lora, x: out, m, u: o.u, y });
        // Backward, in reverse.
        encodeMatmulBackward(ctx, pass, { dy: dY, weight: oW, dx: dAttn, m });
        encodeLoraBackward(ctx, pass, { lora: o.lora, dy: dY, x: out, u: o.u, m, du, dA: o.dA, dB: o.dB, dx: dAttn });
        encodeAttentionBackward(ctx, pass, {
          shape: s,
          qkv,
          layout,
          out,
          lse,
          dOut: dAttn,
          delta: ctx.createBuffer('delta', m * s.heads * 4, 'scratch'),
          dqkv,
        });
        encodeMatmulBackward(ctx, pass, { dy: dqkv, weight: qkvW, dx: dX, m });
        for (const mod of modules.slice(0, 3))
          encodeLoraBackward(ctx, pass, { lora: mod.lora, dy: dqkv, dySlice: mod.t.slice, x: xBuf, u: mod.u, m, du, dA: mod.dA, dB: mod.dB, dx: dX });
      },
      outputs,
    );

    expect(
      nmse(
        dXGot,
        finiteDifferenceGrad((xx) => lossOf(xx, params), x),
      ),
    ).toBeLessThan(1e-8);
    params.forEach((p, i) => {
      const withA = (a: Float64Array) => params.map((q, j) => (j === i ? { a, b: q.b } : q));
      const withB = (b: Float64Array) => params.map((q, j) => (j === i ? { a: q.a, b } : q));
      expect(
        nmse(
          adapterGrads[2 * i],
          finiteDifferenceGrad((a) => lossOf(x, withA(a)), p.a),
        ),
        `${targets[i]} dA`,
      ).toBeLessThan(1e-8);
      expect(
        nmse(
          adapterGrads[2 * i + 1],
          finiteDifferenceGrad((b) => lossOf(x, withB(b)), p.b),
        ),
        `${targets[i]} dB`,
      ).toBeLessThan(1e-8);
    });
  });
});
