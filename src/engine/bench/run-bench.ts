// The benchmark's measuring core: a model shape with random weights (no download), prefill and
// decode tokens/s per batch size, dispatches and submits per decode step and per token, GPU
// memory. It takes a GPUDevice and returns the report object; no DOM and no Node, so `npm run
// bench` (Dawn) and the bench page's worker (the browser's WebGPU) measure with the same code.
import { parseModelConfig } from '../../hf-io/config';
import { MODEL_SHAPES } from '../../../models/shapes';
import { GpuContext } from '../gpu/context';
import { QwenEngine } from '../engine';
import { generate } from '../generate';
import { syntheticWeights } from '../model/synthetic-weights';
import { benchSettingsProblems, type BenchSettings } from './bench-options';

export type BenchProgress =
  { phase: 'upload'; done: number; total: number } | { phase: 'warm-up'; batch: number } | { phase: 'run'; batch: number; index: number; count: number };

export interface BenchRunOptions extends BenchSettings {
  /** How the adapter describes itself, and whether it is a software renderer (both go in the report). */
  adapter: { description: string; isSoftware: boolean };
  onProgress?: (p: BenchProgress) => void;
}

export interface BenchBatchRun {
  batch: number;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  decode_ms_per_step: number;
  dispatches_per_decode_step: number;
  dispatches_per_decoded_token: number;
  submits_per_decode_step: number;
  submits_per_decoded_token: number;
  prefill_dispatches: number;
  effective_weight_gb_per_s?: number;
  fraction_of_bandwidth_bound?: number;
}

/** The JSON that `npm run bench` prints (other scripts read it: keep its keys stable). */
export interface BenchReport {
  adapter: string;
  software_adapter: boolean;
  shape: string;
  quant: string;
  weights: string;
  layers: number;
  prompt_tokens: number;
  decode_tokens: number;
  load_seconds: number;
  weight_bytes_read_per_token: number;
  gpu_memory_bytes: { weights: number; kv_cache: number; activations: number; other: number; total: number };
  runs: BenchBatchRun[];
}

export class BenchError extends Error {}

/**
 * Counts queue submissions while a run is measured. The engine submits through `device.queue`
 * directly, so wrapping the queue's method is the one place that sees every submit.
 */
function countSubmits(queue: GPUQueue): { count: () => number; restore: () => void } {
  let count = 0;
  const original = queue.submit;
  queue.submit = function (buffers: Iterable<GPUCommandBuffer>) {
    count++;
    return original.call(queue, buffers);
  };
  return {
    count: () => count,
    restore: () => {
      queue.submit = original;
    },
  };
}

/** Creates the engine, turning allocation failures (reported asynchronously) into one clear error. */
async function createEngine(ctx: GpuContext, options: BenchRunOptions, config: ReturnType<typeof parseModelConfig>, maxBatch: number): Promise<QwenEngine> {
  const { device } = ctx;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let engine: QwenEngine | undefined;
  let thrown: unknown;
  try {
    engine = await QwenEngine.create(ctx, config, syntheticWeights(config), {
      format: options.format,
      maxContext: options.promptTokens + options.decodeTokens,
      maxBatch,
      maxStepTokens: Math.max(maxBatch, Math.min(512, options.promptTokens * maxBatch)),
      onProgress: (p) => options.onProgress?.({ phase: 'upload', done: p.done, total: p.total }),
    });
  } catch (e) {
    thrown = e;
  }
  const invalid = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const gpuError = oom ?? invalid;
  if (gpuError) {
    engine?.destroy();
    const what = `${options.shape} at ${options.format} with batch ${maxBatch} and ${options.promptTokens + options.decodeTokens} tokens of context`;
    throw new BenchError(
      `${oom ? 'the GPU ran out of memory for' : 'the GPU could not set up'} ${what}: ${gpuError.message.split('\n')[0]} Try q4, a smaller shape, batch or context.`,
    );
  }
  if (thrown) throw thrown;
  return engine!;
}

export async function runBench(device: GPUDevice, options: BenchRunOptions): Promise<BenchReport> {
  const problems = benchSettingsProblems(options);
  if (problems.length > 0) throw new BenchError(problems.join('; '));
  const { promptTokens, decodeTokens, batches, bandwidthGbps: bandwidth } = options;
  const config = parseModelConfig(MODEL_SHAPES[options.shape], `${options.shape} shape`);
  const ctx = new GpuContext(device);
  const maxBatch = Math.max(...batches);
  const loadStart = performance.now();
  const engine = await createEngine(ctx, options, config, maxBatch);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const weightBytes =
    engine.weights.layers.reduce((n, l) => n + l.qkv.byteLength + l.o.byteLength + l.gateUp.byteLength + l.down.byteLength, 0) +
    engine.weights.lmHead.byteLength;
  const submits = countSubmits(device.queue);
  const runs: BenchBatchRun[] = [];
  try {
    for (const [index, batch] of batches.entries()) {
      // Warm-up at this batch size first: kernels bake their shapes into the shader source, so each
      // batch size compiles its own pipelines (on SwiftShader this would dominate a cold run).
      options.onProgress?.({ phase: 'warm-up', batch });
      const warmUp = Array.from({ length: batch }, () => ({ promptIds: new Array(promptTokens).fill(7), maxNewTokens: 2, stopIds: [] as number[] }));
      // Prefix reuse off in both: identical warm-up prompts would share one prefill, and a batch
      // size's prompts repeat the previous one's; this measures prefilling every prompt token.
      await generate(engine, warmUp, { greedy: true }, { prefixCache: false });
      options.onProgress?.({ phase: 'run', batch, index, count: batches.length });
      const requests = Array.from({ length: batch }, (_, b) => ({
        promptIds: Array.from({ length: promptTokens }, (_, i) => (i * 31 + b * 7 + 11) % config.vocabSize),
        maxNewTokens: decodeTokens,
        stopIds: [] as number[],
      }));
      // Sequence 0's tokens mark the steps: the first comes out of prefill, each later one ends a decode step.
      const stamps: { ms: number; dispatches: number; submits: number }[] = [];
      const dispatchesBefore = ctx.dispatchCount;
      const t0 = performance.now();
      await generate(
        engine,
        requests,
        { temperature: 0.8, topP: 0.95, seed: 1 },
        {
          prefixCache: false,
          onToken: (seq) => {
            if (seq === 0) stamps.push({ ms: performance.now(), dispatches: ctx.dispatchCount, submits: submits.count() });
          },
        },
      );
      const first = stamps[0];
      const last = stamps[stamps.length - 1];
      const decodeSteps = stamps.length - 1;
      const decodeSeconds = (last.ms - first.ms) / 1000;
      const dispatchesPerStep = (last.dispatches - first.dispatches) / decodeSteps;
      const submitsPerStep = (last.submits - first.submits) / decodeSteps;
      // Batch 1 decode reads every weight once per token: the memory-bandwidth view of speed.
      const weightGbPerS = (weightBytes / 1e9) * (decodeSteps / decodeSeconds);
      runs.push({
        batch,
        prefill_tokens_per_s: (batch * promptTokens) / ((first.ms - t0) / 1000),
        decode_tokens_per_s: (batch * decodeSteps) / decodeSeconds,
        decode_ms_per_step: (decodeSeconds * 1000) / decodeSteps,
        dispatches_per_decode_step: dispatchesPerStep,
        dispatches_per_decoded_token: dispatchesPerStep / batch,
        submits_per_decode_step: submitsPerStep,
        submits_per_decoded_token: submitsPerStep / batch,
        prefill_dispatches: first.dispatches - dispatchesBefore,
        ...(batch === 1 ? { effective_weight_gb_per_s: weightGbPerS } : {}),
        ...(batch === 1 && bandwidth ? { fraction_of_bandwidth_bound: weightGbPerS / bandwidth } : {}),
      });
    }
    const memory = engine.memoryReport();
    return {
      adapter: options.adapter.description,
      software_adapter: options.adapter.isSoftware,
      shape: options.shape,
      quant: options.format,
      weights: 'random (exact model shapes)',
      layers: config.numLayers,
      prompt_tokens: promptTokens,
      decode_tokens: decodeTokens,
      load_seconds: loadSeconds,
      weight_bytes_read_per_token: weightBytes,
      gpu_memory_bytes: { weights: memory.weights, kv_cache: memory.kvCache, activations: memory.activations, other: memory.other, total: memory.total },
      runs,
    };
  } finally {
    submits.restore();
    engine.destroy();
  }
}
