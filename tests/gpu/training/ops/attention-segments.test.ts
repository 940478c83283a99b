// Shared-prefix packing in the training attention: a sequence [prefix | segment 1 | … | segment G]
// where each segment sees the prefix and itself only. The CPU reference must equal plain causal
// attention over each (prefix ++ segment) on its own, its backward must be the gradient (central
// differences), and the GPU kernels must match the reference on odd shapes.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../../src/engine/gpu/context';
import { attentionBackwardCpu, encodeAttentionBackward } from '../../../../src/training/ops/attention-backward';
import {
  fusedQkvLayout,
  segmentTable,
  type AttentionTrainShape,
  type QkvLayout,
  type SequenceSegments,
} from '../../../../src/training/ops/attention-backward-common';
import { attentionTrainForwardCpu, encodeAttentionTrainForward } from '../../../../src/training/ops/attention-backward-forward';
import { dot, expectGradClose, finiteDifferenceGrad, randomFloat64 } from '../../../helpers/finite-difference';
import { getTestDevice } from '../../../helpers/gpu';
import { maxAbsDiff, nmse, randomArray } from '../../../helpers/numeric';

function paddedLayout(s: AttentionTrainShape): QkvLayout {
  const f = fusedQkvLayout(s);
  return { qOffset: 2, kOffset: 2 + f.kOffset, vOffset: 2 + f.vOffset, tokenStride: f.tokenStride + 3 };
}

/** Copies tokens `from` (indices into a packed qkv) into a fresh single-sequence qkv buffer. */
function gatherTokens(qkv: ArrayLike<number>, l: QkvLayout, from: number[]): Float64Array {
  const out = new Float64Array(from.length * l.tokenStride + 2);
  from.forEach((t, i) => {
    for (let e = 0; e < l.tokenStride; e++) out[2 + i * l.tokenStride + e] = qkv[2 + t * l.tokenStride + e];
  });
  return out;
}

describe('segment table', () => {
  it('describes prefix, segments and trailing padding', () => {
    const table = segmentTable(
      [
        { prefix: 2, segments: [1, 2] },
        { prefix: 0, segments: [] },
      ],
      6,
    );
    const rows = Array.from({ length: 12 }, (_, t) => [...table.subarray(t * 4, t * 4 + 3)]);
    expect(rows.slice(0, 6)).toEqual([
      [0, 0, 6],
      [0, 0, 6],
      [2, 2, 3],
      [2, 3, 6],
      [2, 3, 6],
      [2, 3, 6],
    ]);
    expect(rows.slice(6)).toEqual(Array(6).fill([0, 0, 6]));
    expect(() => segmentTable([{ prefix: 3, segments: [2, 2] }], 6)).toThrow(/holds 7 tokens, more than its length 6/);
    expect(() => segmentTable([{ prefix: 1, segments: [0] }], 6)).toThrow(/segments of ≥ 1 token/);
  });
});

describe('segmented attention CPU reference', () => {
  const s: AttentionTrainShape = { sequences: 2, seqLen: 9, heads: 4, kvHeads: 2, headDim: 4 };
  const packing: SequenceSegments[] = [
    { prefix: 3, segments: [2, 1, 3] },
    { prefix: 0, segments: [4, 5] },
  ];
  const l = paddedLayout(s);

  it('each segment equals causal attention over prefix ++ segment alone', () => {
    const qkv = randomFloat64(s.sequences * s.seqLen * l.tokenStride + 2, 7, 1.5);
    const table = segmentTable(packing, s.seqLen);
    const { out } = attentionTrainForwardCpu(qkv, s, l, table);
    packing.forEach((p, b) => {
      let start = p.prefix;
      for (const n of p.segments) {
        const tokens = [...Array.from({ length: p.prefix }, (_, t) => t), ...Array.from({ length: n }, (_, j) => start + j)].map((t) => b * s.seqLen + t);
        const alone = attentionTrainForwardCpu(gatherTokens(qkv, l, tokens), { ...s, sequences: 1, seqLen: tokens.length }, l).out;
        const width = s.heads * s.headDim;
        tokens.forEach((t, i) => expect(maxAbsDiff(out.subarray(t * width, (t + 1) * width), alone.subarray(i * width, (i + 1) * width))).toBeLessThan(1e-12));
        start += n;
      }
    });
  });

  it('the backward is the gradient under the segment mask (central differences)', () => {
    const qkv = randomFloat64(s.sequences * s.seqLen * l.tokenStride + 2, 8, 1.5);
    const g = randomFloat64(s.sequences * s.seqLen * s.heads * s.headDim, 9);
    const table = segmentTable(packing, s.seqLen);
    const numeric = finiteDifferenceGrad((x) => dot(g, attentionTrainForwardCpu(x, s, l, table).out), qkv);
    expectGradClose(attentionBackwardCpu(qkv, g, s, l, table), numeric, { rtol: 1e-5, atol: 1e-8 });
  });
});

// Odd shapes: prefixes longer than a 64-key tile, segments of 1 token, trailing padding, no prefix,
// head_dim 6 (8 key groups) and 24, GQA 2.
const CASES: { shape: AttentionTrainShape; packing: SequenceSegments[] }[] = [
  {
    shape: { sequences: 2, seqLen: 13, heads: 4, kvHeads: 2, headDim: 24 },
    packing: [
      { prefix: 5, segments: [3, 1, 3] },
      { prefix: 1, segments: [1] },
    ],
  },
  { shape: { sequences: 1, seqLen: 150, heads: 2, kvHeads: 1, headDim: 6 }, packing: [{ prefix: 71, segments: [9, 66, 1, 2] }] },
  {
    shape: { sequences: 3, seqLen: 7, heads: 2, kvHeads: 2, headDim: 8 },
    packing: [
      { prefix: 0, segments: [2, 5] },
      { prefix: 7, segments: [] },
      { prefix: 6, segments: [1] },
    ],
  },
];

describe('segmented training attention on the GPU', () => {
  const KERNEL_CASES = (['tiled', 'serial'] as const).flatMap((kernel) => CASES.map((c) => ({ ...c, kernel })));
  it.each(KERNEL_CASES)(
    'forward and backward match float64 ($kernel): B=$shape.sequences T=$shape.seqLen d=$shape.headDim',
    async ({ shape: s, packing, kernel }) => {
      const ctx = new GpuContext((await getTestDevice()).device);
      const l = paddedLayout(s);
      const rows = s.sequences * s.seqLen * s.heads;
      const qkv = randomArray(s.sequences * s.seqLen * l.tokenStride + 2, s.seqLen, 1.5);
      const dOut = randomArray(rows * s.headDim, 5);
      const table = segmentTable(packing, s.seqLen);
      const segments = ctx.upload('segments', table, 'activations');
      const qkvBuf = ctx.upload('qkv', qkv, 'activations');
      const out = ctx.createBuffer('out', rows * s.headDim * 4, 'activations');
      const lse = ctx.createBuffer('lse', rows * 4, 'activations');
      const dqkv = ctx.createBuffer('dqkv', qkv.length * 4, 'activations');
      const encoder = ctx.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      encodeAttentionTrainForward(ctx, pass, { shape: s, qkv: qkvBuf, layout: l, out, lse, segments, kernel });
      encodeAttentionBackward(ctx, pass, {
        shape: s,
        qkv: qkvBuf,
        layout: l,
        out,
        lse,
        dOut: ctx.upload('dOut', dOut, 'activations'),
        delta: ctx.createBuffer('delta', rows * 4, 'scratch'),
        dqkv,
        segments,
        kernel,
      });
      pass.end();
      ctx.device.queue.submit([encoder.finish()]);
      const [outGot, lseGot, gradGot] = await Promise.all([out, lse, dqkv].map(async (b) => new Float32Array(await ctx.read(b))));
      const want = attentionTrainForwardCpu(qkv, s, l, table);
      expect(nmse(outGot, want.out)).toBeLessThan(1e-10);
      expect(maxAbsDiff(lseGot, want.lse)).toBeLessThan(1e-5);
      // Masking differs from causal here, so a kernel that ignored the table would fail this.
      expect(nmse(attentionTrainForwardCpu(qkv, s, l).out, want.out)).toBeGreaterThan(1e-4);
      const grad = attentionBackwardCpu(qkv, dOut, s, l, table);
      const inView = (i: number) => i >= 2 && (i - 2) % l.tokenStride < fusedQkvLayout(s).tokenStride;
      expect(
        nmse(
          gradGot.filter((_, i) => inView(i)),
          grad.filter((_, i) => inView(i)),
        ),
      ).toBeLessThan(1e-9);
    },
  );

  it('rejects a short segment table with a named error', async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const s = CASES[0].shape;
    const l = fusedQkvLayout(s);
    const rows = s.sequences * s.seqLen * s.heads;
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const args = {
      shape: s,
      qkv: ctx.createBuffer('qkv', s.sequences * s.seqLen * l.tokenStride * 4, 'activations'),
      layout: l,
      out: ctx.createBuffer('out', rows * s.headDim * 4, 'activations'),
      lse: ctx.createBuffer('lse', rows * 4, 'activations'),
      segments: ctx.createBuffer('segs', 16, 'activations'),
    };
    expect(() => encodeAttentionTrainForward(ctx, pass, args)).toThrow(/attentionTrainForward: segments holds 4 u32 values, needs tokens × 4 = 104/);
    pass.end();
    encoder.finish();
  });
});
