// npm run bench [-- --shape tiny|qwen2.5-0.5b|qwen2.5-1.5b|qwen3-0.6b] [--quant q4|q8|f16|f32]
//   [--batch 1,8] [--prompt-tokens N] [--decode-tokens N] [--bandwidth-gbps B]
// Prints one JSON object: prefill and decode tokens/s per batch size, dispatches and submits per
// decode step and per token, and GPU memory. Weights are random with the model's exact shapes
// (no download). Default shape: tiny on a software adapter (SwiftShader), qwen2.5-0.5b on a GPU.
import { parseModelConfig } from '../model/config';
import { MODEL_SHAPES, type ModelShapeName } from '../../models/shapes';
import { GpuContext } from '../engine/gpu/context';
import { QwenEngine } from '../engine/engine';
import { generate } from '../engine/generate';
import { syntheticWeights } from '../engine/model/synthetic-weights';
import { WEIGHT_FORMATS } from '../engine/quant/formats';
import { relaunchWithDawnEnvironment } from '../node/dawn-env';
import { requestNodeDevice } from '../node/gpu';
import { CliError, idsFlag, numberFlag, oneOf, parseFlags } from './flags';


async function main() {
  relaunchWithDawnEnvironment();
  const flags = parseFlags(process.argv.slice(2));
  const { device, description, isSoftware } = await requestNodeDevice();
  const shapeName = oneOf(flags, 'shape', Object.keys(MODEL_SHAPES) as ModelShapeName[], isSoftware ? 'tiny' : 'qwen2.5-0.5b')!;
  const format = oneOf(flags, 'quant', WEIGHT_FORMATS, 'q4')!;
  if (format === 'f16' && !device.features.has('shader-f16')) console.error('note: no shader-f16 on this adapter; f16 weights are decoded with unpack2x16float');
  const batches = idsFlag(flags, 'batch', false) ?? [1, 8];
  const promptTokens = numberFlag(flags, 'prompt-tokens', isSoftware ? 16 : 128)!;
  const decodeTokens = numberFlag(flags, 'decode-tokens', isSoftware ? 8 : 64)!;
  const bandwidth = numberFlag(flags, 'bandwidth-gbps');
  const config = parseModelConfig(MODEL_SHAPES[shapeName], `${shapeName} shape`);
  const ctx = new GpuContext(device);
  const maxBatch = Math.max(...batches);
  const loadStart = performance.now();
  const engine = await QwenEngine.create(ctx, config, syntheticWeights(config), {
    format, maxContext: promptTokens + decodeTokens, maxBatch, maxStepTokens: Math.max(maxBatch, Math.min(512, promptTokens * maxBatch)),
  });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const weightBytes = engine.weights.layers.reduce((n, l) => n + l.qkv.byteLength + l.o.byteLength + l.gateUp.byteLength + l.down.byteLength, 0) + engine.weights.lmHead.byteLength;
  const runs = [];
  try {
    // Warm-up compiles every pipeline (on SwiftShader this dominates a cold run).
    await generate(engine, [{ promptIds: new Array(promptTokens).fill(7), maxNewTokens: 2, stopIds: [] }], { greedy: true });
    for (const batch of batches) {
      const requests = Array.from({ length: batch }, (_, b) => ({ promptIds: Array.from({ length: promptTokens }, (_, i) => (i * 31 + b * 7 + 11) % config.vocabSize), maxNewTokens: decodeTokens, stopIds: [] as number[] }));
      const stamps: number[] = [];
      const dispatchesBefore = ctx.dispatchCount;
      let dispatchesAfterPrefill = 0;
      const t0 = performance.now();
      await generate(engine, requests, { temperature: 0.8, topP: 0.95, seed: 1 }, {
        onToken: (seq) => {
          if (seq !== 0) return;
          stamps.push(performance.now());
          if (stamps.length === 1) dispatchesAfterPrefill = ctx.dispatchCount;
        },
      });
      const decodeSteps = decodeTokens - 1;
      const decodeSeconds = (stamps[stamps.length - 1] - stamps[0]) / 1000;
      const dispatchesPerStep = (ctx.dispatchCount - dispatchesAfterPrefill) / decodeSteps;
      runs.push({
        batch,
        prefill_tokens_per_s: (batch * promptTokens) / ((stamps[0] - t0) / 1000),
        decode_tokens_per_s: (batch * decodeSteps) / decodeSeconds,
        decode_ms_per_step: (decodeSeconds * 1000) / decodeSteps,
        dispatches_per_decode_step: dispatchesPerStep,
        dispatches_per_decoded_token: dispatchesPerStep / batch,
        submits_per_decode_step: 1,
        submits_per_decoded_token: 1 / batch,
        prefill_dispatches: dispatchesAfterPrefill - dispatchesBefore,
        // Batch 1 decode reads every weight once per token: the memory-bandwidth view of speed.
        ...(batch === 1 ? { effective_weight_gb_per_s: (weightBytes / 1e9) * (decodeSteps / decodeSeconds) } : {}),
        ...(batch === 1 && bandwidth ? { fraction_of_bandwidth_bound: ((weightBytes / 1e9) * (decodeSteps / decodeSeconds)) / bandwidth } : {}),
      });
    }
    const memory = engine.memoryReport();
    console.log(JSON.stringify({
      adapter: description,
      software_adapter: isSoftware,
      shape: shapeName,
      quant: format,
      weights: 'random (exact model shapes)',
      layers: config.numLayers,
      prompt_tokens: promptTokens,
      decode_tokens: decodeTokens,
      load_seconds: loadSeconds,
      weight_bytes_read_per_token: weightBytes,
      gpu_memory_bytes: { weights: memory.weights, kv_cache: memory.kvCache, activations: memory.activations, other: memory.other, total: memory.total },
      runs,
    }, null, 2));
  } finally {
    engine.destroy();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`error: ${(err as Error).message}`);
  process.exit(err instanceof CliError ? 2 : 1);
});
