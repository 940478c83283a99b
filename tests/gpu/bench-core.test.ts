// The benchmark's measuring core (src/engine/bench/run-bench.ts) under Node + Dawn, as `npm run
// bench` and the bench page use it: the report keeps the keys other scripts read, submits are
// counted (one per decode step), and bad settings are refused before any GPU work.
import { describe, expect, it } from 'vitest';
import { BenchError, runBench, type BenchProgress } from '../../src/engine/bench/run-bench';
import { getTestDevice } from '../helpers/gpu';

const adapter = { description: 'test adapter', isSoftware: true };

describe('benchmark core', () => {
  it('measures the tiny shape: stable keys, counted submits and dispatches, memory', async () => {
    const { device } = await getTestDevice();
    const progress: BenchProgress[] = [];
    const report = await runBench(device, {
      shape: 'tiny',
      format: 'q8',
      batches: [2, 1],
      promptTokens: 3,
      decodeTokens: 3,
      bandwidthGbps: 50,
      adapter,
      onProgress: (p) => progress.push(p),
    });
    expect(Object.keys(report)).toEqual([
      'adapter',
      'software_adapter',
      'shape',
      'quant',
      'weights',
      'layers',
      'prompt_tokens',
      'decode_tokens',
      'load_seconds',
      'weight_bytes_read_per_token',
      'gpu_memory_bytes',
      'runs',
    ]);
    expect(report).toMatchObject({
      adapter: 'test adapter',
      software_adapter: true,
      shape: 'tiny',
      quant: 'q8',
      layers: 4,
      prompt_tokens: 3,
      decode_tokens: 3,
    });
    expect(Object.keys(report.runs[0])).toEqual([
      'batch',
      'prefill_tokens_per_s',
      'decode_tokens_per_s',
      'decode_ms_per_step',
      'dispatches_per_decode_step',
      'dispatches_per_decoded_token',
      'submits_per_decode_step',
      'submits_per_decoded_token',
      'prefill_dispatches',
    ]);
    const [two, one] = report.runs;
    expect([two.batch, one.batch]).toEqual([2, 1]);
    for (const run of report.runs) {
      expect(run.submits_per_decode_step).toBe(1);
      expect(run.decode_tokens_per_s).toBeGreaterThan(0);
      expect(run.prefill_tokens_per_s).toBeGreaterThan(0);
      // Batching shares a step's dispatches among its sequences.
      expect(run.dispatches_per_decoded_token).toBe(run.dispatches_per_decode_step / run.batch);
    }
    expect(one.fraction_of_bandwidth_bound).toBeCloseTo(one.effective_weight_gb_per_s! / 50, 12);
    // q8 weights: about one byte per parameter of the projections and the (tied) LM head.
    expect(report.weight_bytes_read_per_token).toBeGreaterThan(4 * (128 * 256 + 128 * 128 + 128 * 704 + 352 * 128));
    expect(report.gpu_memory_bytes.total).toBeGreaterThan(report.gpu_memory_bytes.weights);
    expect(progress.filter((p) => p.phase === 'warm-up')).toEqual([
      { phase: 'warm-up', batch: 2 },
      { phase: 'warm-up', batch: 1 },
    ]);
    expect(progress.some((p) => p.phase === 'upload')).toBe(true);
  });

  it('refuses bad settings naming each problem, before touching the GPU', async () => {
    const { device } = await getTestDevice();
    const err = await runBench(device, { shape: 'tiny', format: 'q4', batches: [0], promptTokens: 1030, decodeTokens: 1, adapter }).catch((e) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect(err.message).toBe(
      'batches must be positive integers, got "0"; decode tokens must be an integer ≥ 2, got 1; prompt + decode tokens (1031) exceed the tiny context of 1024',
    );
  });
});
