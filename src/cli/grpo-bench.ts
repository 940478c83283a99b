// `npm run bench -- --grpo [...]`: the GRPO-step benchmark (src/training/bench/grpo-bench.ts) from
// the command line. Prints one JSON object. Shape and sequence length default to the case
// (qwen2.5-0.5b, 512 tokens) on a GPU and with --plan-only, and to tiny with 32 tokens for real steps
// on a software adapter (minutes instead of hours). Flags:
//   --shape tiny|qwen2.5-0.5b|...   --quant q4|q8|f16|f32   --rank 16   --group-size 8 (G)
//   --prompts 1   --seq-len 512   --prompt-tokens N (default seq-len / 4)   --micro-batch 1
//   --kl-beta 0.04   --no-recompute   --warmup 1   --steps 2   --seed 0
//   --plan-only   build everything a step holds and report its GPU memory, without running steps
//   --share-prefix [--packed-row-tokens 4096]   train over shared prefixes (the trainer's default; off here)
//   --env sandbox   real test-split sandbox episodes (Qwen2.5 template), sharing ON and OFF in one
//                   run, per-phase tokens/time and ratios (src/training/bench/sandbox-bench.ts);
//                   with --shape split-256 (default) | split-64, --group-size, --prompts, --rank,
//                   --quant, --kl-beta, --warmup (default 0), --steps (default 1), --min-turns
//                   (default 2: the first test scenarios whose episode has at least that many turns)
import { parseModelConfig } from '../hf-io/config';
import { MODEL_SHAPES, type ModelShapeName } from '../../models/shapes';
import { GpuContext } from '../engine/gpu/context';
import { WEIGHT_FORMATS } from '../engine/quant/formats';
import { runGrpoBench } from '../training/bench/grpo-bench';
import { runSandboxGrpoBench, SPLIT_SHAPES } from '../training/bench/sandbox-bench';
import { requestNodeDevice } from '../node/gpu';
import { boolFlag, CliError, numberFlag, oneOf, type Flags } from './flags';

function intFlag(flags: Flags, name: string, fallback: number, min: number): number {
  const n = numberFlag(flags, name, fallback)!;
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer ≥ ${min}, got ${n}`);
  return n;
}

/** Runs the GRPO bench for already-parsed flags (the caller has set up Dawn's environment). */
export async function grpoBenchCommand(flags: Flags): Promise<void> {
  const { device, description, isSoftware } = await requestNodeDevice();
  if (oneOf(flags, 'env', ['fixed', 'sandbox'] as const, 'fixed') === 'sandbox') {
    const report = await runSandboxGrpoBench(new GpuContext(device), {
      shape: oneOf(flags, 'shape', Object.keys(SPLIT_SHAPES) as (keyof typeof SPLIT_SHAPES)[], 'split-256')!,
      format: oneOf(flags, 'quant', WEIGHT_FORMATS, 'q4')!,
      rank: intFlag(flags, 'rank', 16, 1),
      groupSize: intFlag(flags, 'group-size', 8, 2),
      prompts: intFlag(flags, 'prompts', 1, 1),
      warmupSteps: intFlag(flags, 'warmup', 0, 0),
      steps: intFlag(flags, 'steps', 1, 1),
      minTurns: intFlag(flags, 'min-turns', 2, 1),
      klBeta: numberFlag(flags, 'kl-beta', 0.04)!,
    });
    console.log(JSON.stringify({ adapter: description, software_adapter: isSoftware, weights: 'tiled pseudo-random', ...report }, null, 2));
    return;
  }
  const planOnly = boolFlag(flags, 'plan-only');
  const shapeName = oneOf(flags, 'shape', Object.keys(MODEL_SHAPES) as ModelShapeName[], isSoftware && !planOnly ? 'tiny' : 'qwen2.5-0.5b')!;
  const format = oneOf(flags, 'quant', WEIGHT_FORMATS, 'q4')!;
  const seqLen = intFlag(flags, 'seq-len', isSoftware && !planOnly ? 32 : 512, 2);
  const options = {
    config: parseModelConfig(MODEL_SHAPES[shapeName], `${shapeName} shape`),
    label: shapeName,
    format,
    rank: intFlag(flags, 'rank', 16, 1),
    groupSize: intFlag(flags, 'group-size', 8, 2),
    prompts: intFlag(flags, 'prompts', 1, 1),
    seqLen,
    promptTokens: intFlag(flags, 'prompt-tokens', Math.max(1, Math.floor(seqLen / 4)), 1),
    microBatch: intFlag(flags, 'micro-batch', 1, 1),
    recompute: !boolFlag(flags, 'no-recompute'),
    klBeta: numberFlag(flags, 'kl-beta', 0.04)!,
    warmupSteps: intFlag(flags, 'warmup', 1, 0),
    steps: intFlag(flags, 'steps', 2, 1),
    seed: intFlag(flags, 'seed', 0, 0),
    planOnly,
    sharePrefix: boolFlag(flags, 'share-prefix'),
    packedRowTokens: intFlag(flags, 'packed-row-tokens', 4096, 2),
  };
  if (options.promptTokens >= seqLen) throw new CliError(`--prompt-tokens (${options.promptTokens}) must be below --seq-len (${seqLen})`);
  if (!(options.klBeta >= 0)) throw new CliError(`--kl-beta must be ≥ 0, got ${options.klBeta}`);
  const report = await runGrpoBench(new GpuContext(device), options);
  console.log(
    JSON.stringify(
      {
        adapter: description,
        software_adapter: isSoftware,
        weights: 'tiled pseudo-random (exact model shapes)',
        ...report,
        // Dawn on SwiftShader backs GPU buffers with host memory: the process's resident set shows it.
        host_rss_bytes: process.memoryUsage().rss,
      },
      null,
      2,
    ),
  );
}
