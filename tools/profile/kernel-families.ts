// Where a forward/backward pass spends its time, per kernel family, on this machine's WebGPU
// adapter: `npx tsx tools/profile/kernel-families.ts [--model DIR] [--prefill T] [--prompt P]
// [--continuation C] [--group G]`. Prints JSON.
//
// How: every pipeline is tagged with the ops file that created it (from the call stack at
// GpuContext.pipeline); a pass is then timed whole, with no dispatch at all, and with only one
// family's dispatches left in (the others skipped, so their outputs are garbage, which does not
// change what the kept kernels cost: trip counts come from shapes and positions, not values).
// Timestamps queries would be finer, but SwiftShader offers none. Weights are stand-ins of the
// model's shape (tiled-weights.ts); the model directory is read for config.json only.
//
// Measured with it (issue #13): the demo agent's batched paths were barrier-bound on SwiftShader
// (README, "Benchmark figures").
import { readFileSync } from 'node:fs';
import { parseFlags, numberFlag, stringFlag } from '../../src/cli/flags';
import { QwenEngine } from '../../src/engine/engine';
import { GpuContext } from '../../src/engine/gpu/context';
import { LORA_TARGETS } from '../../src/engine/ops/lora-targets';
import { parseModelConfig } from '../../src/hf-io/config';
import { relaunchWithDawnEnvironment } from '../../src/node/dawn-env';
import { requestNodeDevice } from '../../src/node/gpu';
import { tiledWeights } from '../../src/training/bench/tiled-weights';
import { LoraAdapter } from '../../src/training/model/lora-adapter';
import { TrainingModel } from '../../src/training/model/train-model';

const tags = new WeakMap<GPUComputePipeline, string>();
let keep: (tag: string) => boolean = () => true;

const pipeline = GpuContext.prototype.pipeline;
GpuContext.prototype.pipeline = function (code: string, entry = 'main') {
  const made = pipeline.call(this, code, entry);
  if (!tags.has(made)) {
    const frame = (new Error().stack ?? '').split('\n').find((l) => /src\/\w+\/ops\//.test(l)) ?? '';
    tags.set(made, frame.match(/src\/(\w+\/ops\/[\w-]+)\.ts/)?.[1] ?? 'other');
  }
  return made;
};

function filterDispatches(device: GPUDevice) {
  const encoder = device.createCommandEncoder();
  const probe = encoder.beginComputePass();
  const proto = Object.getPrototypeOf(probe);
  probe.end();
  encoder.finish();
  const current = new WeakMap<object, string>();
  const setPipeline = proto.setPipeline;
  const dispatch = proto.dispatchWorkgroups;
  proto.setPipeline = function (p: GPUComputePipeline) {
    current.set(this, tags.get(p) ?? 'other');
    return setPipeline.call(this, p);
  };
  proto.dispatchWorkgroups = function (...args: number[]) {
    if (keep(current.get(this) ?? 'other')) return dispatch.apply(this, args);
  };
}

async function timed(run: () => Promise<void>): Promise<number> {
  await run(); // warm-up: shader compiles
  const t = performance.now();
  await run();
  return Math.round(performance.now() - t);
}

async function main() {
  relaunchWithDawnEnvironment();
  const flags = parseFlags(process.argv.slice(2));
  const dir = stringFlag(flags, 'model') ?? 'models/demo-agent';
  const prefillTokens = numberFlag(flags, 'prefill', 512)!;
  const P = numberFlag(flags, 'prompt', 900)!;
  const C = numberFlag(flags, 'continuation', 40)!;
  const G = numberFlag(flags, 'group', 8)!;
  const { device, description } = await requestNodeDevice();
  filterDispatches(device);
  const ctx = new GpuContext(device);
  const config = parseModelConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')), dir);
  const engine = await QwenEngine.create(ctx, config, tiledWeights(config), {
    format: 'f32',
    maxContext: Math.max(prefillTokens, P + C) + 16,
    maxBatch: G,
    maxStepTokens: prefillTokens,
  });
  const adapter = new LoraAdapter(ctx, config, { rank: 8, alpha: 16, targets: [...LORA_TARGETS] });
  adapter.initialise(1);
  const model = new TrainingModel(engine, adapter, { sequences: 1, seqLen: P + G * C + 16, recompute: false });
  const prompt = Array.from({ length: P }, (_, i) => (i * 7) % config.vocabSize);
  const continuations = Array.from({ length: G }, (_, g) => Array.from({ length: C }, (_, i) => (i * 13 + g) % config.vocabSize));
  model.setPackedBatch([{ prefix: P - 1, sequences: continuations.map((c) => ({ ids: [...prompt, ...c], scoreFrom: P })) }]);
  model.setScoredWeights(continuations.map(() => new Float32Array(C).fill(1 / (G * C))));
  engine.writeStep(
    Array.from({ length: prefillTokens }, (_, i) => i % config.vocabSize),
    new Array(prefillTokens).fill(0),
    Array.from({ length: prefillTokens }, (_, i) => i),
    [],
  );
  const passes = {
    prefill: () => {
      engine.runStep({ tokens: prefillTokens, logitRows: 0, maxKeys: prefillTokens });
      return device.queue.onSubmittedWorkDone();
    },
    training_forward: async () => void (await model.forwardLogProbs({ lora: true })),
    training_backward: () => model.backward(),
  };
  const report: Record<string, Record<string, number>> = {};
  for (const [name, run] of Object.entries(passes)) {
    const families = new Set<string>();
    keep = (tag) => (families.add(tag), true);
    report[name] = { all_ms: await timed(run) };
    keep = () => false;
    report[name].no_dispatch_ms = await timed(run);
    for (const family of [...families].sort()) {
      keep = (tag) => tag === family;
      report[name][`only ${family}_ms`] = await timed(run);
    }
  }
  console.log(
    JSON.stringify(
      { adapter: description, model: dir, prefill_tokens: prefillTokens, training_row: { prompt: P, continuation: C, group: G, tokens: P + G * C }, report },
      null,
      2,
    ),
  );
  model.destroy();
  adapter.destroy();
  engine.destroy();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
