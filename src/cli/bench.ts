// npm run bench [-- --shape tiny|qwen2.5-0.5b|qwen2.5-1.5b|qwen3-0.6b] [--quant q4|q8|f16|f32]
//   [--batch 1,8] [--prompt-tokens N] [--decode-tokens N] [--bandwidth-gbps B]
// Prints one JSON object: prefill and decode tokens/s per batch size, dispatches and submits per
// decode step and per token, and GPU memory. Weights are random with the model's exact shapes
// (no download). Default shape: tiny on a software adapter (SwiftShader), qwen2.5-0.5b on a GPU.
// The measuring itself is src/engine/bench/run-bench.ts, shared with the bench page (bench.html).
// `npm run bench -- --grpo [--plan-only] ...` benchmarks a GRPO training step instead: time split
// (rollout, forward-backward, optimizer), tokens/s and peak GPU memory vs 2 GB; flags in
// src/cli/grpo-bench.ts, the measuring in src/training/bench/grpo-bench.ts.
import { benchDefaults, BENCH_SHAPES } from '../engine/bench/bench-options';
import { BenchError, runBench } from '../engine/bench/run-bench';
import { WEIGHT_FORMATS } from '../engine/quant/formats';
import { relaunchWithDawnEnvironment } from '../node/dawn-env';
import { requestNodeDevice } from '../node/gpu';
import { CliError, idsFlag, numberFlag, oneOf, parseFlags } from './flags';
import { grpoBenchCommand } from './grpo-bench';

async function main() {
  relaunchWithDawnEnvironment();
  const flags = parseFlags(process.argv.slice(2));
  if (flags.has('grpo')) return grpoBenchCommand(flags);
  const { device, description, isSoftware } = await requestNodeDevice();
  const defaults = benchDefaults(isSoftware);
  const format = oneOf(flags, 'quant', WEIGHT_FORMATS, defaults.format)!;
  if (format === 'f16' && !device.features.has('shader-f16'))
    console.error('note: no shader-f16 on this adapter; f16 weights are decoded with unpack2x16float');
  const report = await runBench(device, {
    shape: oneOf(flags, 'shape', BENCH_SHAPES, defaults.shape)!,
    format,
    batches: idsFlag(flags, 'batch', false) ?? defaults.batches,
    promptTokens: numberFlag(flags, 'prompt-tokens', defaults.promptTokens)!,
    decodeTokens: numberFlag(flags, 'decode-tokens', defaults.decodeTokens)!,
    bandwidthGbps: numberFlag(flags, 'bandwidth-gbps'),
    adapter: { description, isSoftware },
  }).catch((e) => {
    // Bad settings and allocations the GPU refuses are the user's to fix: exit 2 like other bad input.
    throw e instanceof BenchError ? new CliError(e.message) : e;
  });
  console.log(JSON.stringify(report, null, 2));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`error: ${(err as Error).message}`);
    process.exit(err instanceof CliError ? 2 : 1);
  },
);
