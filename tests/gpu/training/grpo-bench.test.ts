// The GRPO-step benchmark: its memory probe counts real buffers; plan-only mode at the case
// (Qwen2.5-0.5B shape, q4, LoRA r16 on all 7 targets, G = 8, 1536-token sandbox episodes with a 1024-token prompt, shared-prefix training) fits in 2 GB
// (2e9 bytes, decimal); and on a tiny shape, plan-only allocates exactly what a real step holds in
// every GpuContext category, while a real step returns finite positive timings and tokens/s.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../src/hf-io/config';
import { MODEL_SHAPES } from '../../../models/shapes';
import { GRPO_MEMORY_LIMIT_BYTES, runGrpoBench, type GrpoBenchOptions } from '../../../src/training/bench/grpo-bench';
import { GpuMemoryProbe } from '../../../src/training/bench/memory-probe';
import { loraTargetLayout, LORA_TARGETS } from '../../../src/engine/ops/lora-targets';
import { testContext } from '../../helpers/gpu';

const TRACKED = ['weights', 'kv_cache', 'activations', 'lora', 'optimizer', 'scratch'] as const;

describe('GpuMemoryProbe', () => {
  it('counts context buffers by category, direct device buffers by usage, and keeps the peak after frees', async () => {
    const ctx = await testContext();
    const probe = new GpuMemoryProbe(ctx);
    let s: GPUBuffer, big: GPUBuffer;
    try {
      const w = ctx.createBuffer('w', 1000, 'weights');
      const a = ctx.createBuffer('a', 4096, 'activations');
      const staging = ctx.device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const uniform = ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      const peakExpected = { weights: 1000, activations: 4096, untracked_readback: 256, untracked_uniforms: 16, total: 1000 + 4096 + 256 + 16 };
      expect(probe.snapshot()).toMatchObject(peakExpected);
      ctx.destroy(a);
      staging.destroy();
      expect(probe.snapshot()).toMatchObject({ activations: 0, untracked_readback: 0, total: 1016 });
      expect(probe.peak).toMatchObject(peakExpected);
      // A smaller allocation after the frees does not move the peak; a larger one does.
      s = ctx.createBuffer('s', 100, 'scratch');
      expect(probe.peak.total).toBe(peakExpected.total);
      big = ctx.createBuffer('big', 8192, 'optimizer');
      expect(probe.peak).toMatchObject({ weights: 1000, scratch: 100, optimizer: 8192, activations: 0, total: 1000 + 16 + 100 + 8192 });
      ctx.destroy(w);
      uniform.destroy();
    } finally {
      probe.dispose();
    }
    // Once disposed, new buffers are no longer counted.
    const after = ctx.device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    expect(probe.snapshot().total).toBe(100 + 8192);
    after.destroy();
    ctx.destroy(s);
    ctx.destroy(big);
  });

  it('refuses a context that already holds buffers (its totals would miss them)', async () => {
    const ctx = await testContext();
    const b = ctx.createBuffer('early', 64, 'scratch');
    expect(() => new GpuMemoryProbe(ctx)).toThrow(/fresh GpuContext/);
    ctx.destroy(b);
  });
});

describe('GRPO bench', () => {
  // Realistic sandbox lengths: a 1024-token prompt, 3 turns × 128 generated tokens and two tool
  // answers of 64 tokens between them: 1536-token episodes. Shared-prefix training on (the
  // trainer's default): a packed row of 4096 tokens holds the prompt once and 5 of the 8
  // continuations (513 tokens each, from the prompt's last token), so a group trains in 2 rows of
  // 6150 tokens in all instead of 8 rows of 1536 (12288 tokens; 5127 unique).
  it('plan-only: Qwen2.5-0.5B shape, q4, LoRA r16 (7 targets), G = 8, 1024-token prompt + 3 × 128 generated, shared-prefix rows of 4096, fits in 2e9 bytes', async () => {
    const config = parseModelConfig(MODEL_SHAPES['qwen2.5-0.5b'], 'qwen2.5-0.5b shape');
    const report = await runGrpoBench(await testContext(), {
      config,
      label: 'qwen2.5-0.5b',
      format: 'q4',
      rank: 16,
      groupSize: 8,
      prompts: 1,
      seqLen: 1536,
      promptTokens: 1024,
      // Micro-batch 1 and recomputation: the playground's training settings (worker-api/training-session.ts).
      microBatch: 1,
      recompute: true,
      klBeta: 0.04,
      warmupSteps: 0,
      steps: 0,
      planOnly: true,
      sharePrefix: true,
      packedRowTokens: 4096,
    });
    const peak = report.gpu_memory_peak_bytes;
    console.log('GRPO plan-only, Qwen2.5-0.5B q4 r16 G8 T1536 shared rows 4096:', JSON.stringify(peak));
    expect(report.engine).toEqual({ max_batch: 8, max_context: 1536, max_step_tokens: 512 });
    expect(report.share_prefix).toBe(true);
    expect(report.train_rows_per_micro_batch).toBe(4096);
    // The real allocations behind the total: q4 weights near 278 MB, and LoRA params + grads and
    // AdamW's m + v each at least 2 × 4 bytes per LoRA parameter.
    const loraParams =
      config.numLayers *
      LORA_TARGETS.reduce((n, t) => {
        const l = loraTargetLayout(config, t);
        return n + 16 * (l.inFeatures + l.outFeatures);
      }, 0);
    expect(peak.weights).toBeGreaterThan(270e6);
    expect(peak.weights).toBeLessThan(290e6);
    expect(peak.lora).toBeGreaterThanOrEqual(2 * 4 * loraParams);
    expect(peak.optimizer).toBeGreaterThanOrEqual(2 * 4 * loraParams);
    expect(peak.kv_cache).toBeGreaterThan(0);
    expect(peak.activations).toBeGreaterThan(0);
    expect(peak.untracked_readback).toBeGreaterThanOrEqual(4096 * 4); // the log-prob readback of a training forward
    expect(peak.total).toBe(TRACKED.reduce((n, k) => n + peak[k], 0) + peak.untracked_uniforms + peak.untracked_readback + peak.untracked_other);
    expect(report.limit_bytes).toBe(2e9);
    expect(GRPO_MEMORY_LIMIT_BYTES).toBe(2e9);
    expect(peak.total).toBeLessThanOrEqual(2e9);
    expect(report.fits_2gb).toBe(true);
  }, 600_000);

  it('tiny shape: a real step runs with finite positive timings and tokens/s, and plan-only holds the same buffers in every context category', async () => {
    const options: GrpoBenchOptions = {
      config: parseModelConfig(MODEL_SHAPES.tiny, 'tiny shape'),
      label: 'tiny',
      format: 'q4',
      rank: 4,
      groupSize: 2,
      prompts: 1,
      seqLen: 8,
      promptTokens: 4,
      microBatch: 2,
      recompute: true,
      klBeta: 0.04,
      warmupSteps: 0,
      steps: 1,
      planOnly: false,
    };
    const run = await runGrpoBench(await testContext(), options);
    console.log(
      'GRPO tiny step:',
      JSON.stringify({
        time_s: run.time_s,
        rollout_tokens_per_s: run.rollout_tokens_per_s,
        step_tokens_per_s: run.step_tokens_per_s,
        peak: run.gpu_memory_peak_bytes,
      }),
    );
    expect(run.mode).toBe('steps');
    expect(run.steps).toBe(1);
    for (const [phase, seconds] of Object.entries(run.time_s!)) {
      expect(Number.isFinite(seconds) && seconds > 0, `${phase} time ${seconds}`).toBe(true);
    }
    expect(run.time_s!.step).toBeGreaterThanOrEqual(run.time_s!.rollout + run.time_s!.forward_backward + run.time_s!.optimizer - 1e-6);
    for (const rate of [run.rollout_tokens_per_s!, run.step_tokens_per_s!]) expect(Number.isFinite(rate) && rate > 0).toBe(true);
    expect(run.completions_full_length).toBe(true);
    expect(run.completion_tokens_per_step).toBe(2 * 4);
    expect(Number.isFinite(run.grad_norm!)).toBe(true);
    // A step dispatches kernels: their parameter uniforms exist only in a real run.
    expect(run.gpu_memory_peak_bytes.untracked_uniforms).toBeGreaterThan(0);

    const plan = await runGrpoBench(await testContext(), { ...options, planOnly: true });
    for (const k of TRACKED) expect(plan.gpu_memory_peak_bytes[k], k).toBe(run.gpu_memory_peak_bytes[k]);
    // What plan-only cannot see is the uniforms a step creates; nothing else.
    expect(run.gpu_memory_peak_bytes.total).toBeLessThanOrEqual(plan.gpu_memory_peak_bytes.total + run.gpu_memory_peak_bytes.untracked_uniforms);
  }, 600_000);
});
