// npm run cli -- grad --model DIR --adapter DIR --ids CSV --loss-last K --out FILE.safetensors
// Gradients of L = −mean over the last K tokens of log p(token | prefix) with respect to every
// LoRA tensor of the PEFT adapter, written under PEFT's tensor names (f32).
import { writeFileSync } from 'node:fs';
import { writeSafetensors } from '../../hf-io/safetensors-writer';
import { fromFloat32 } from '../../hf-io/dtypes';
import { LoraAdapter } from '../../training/model/lora-adapter';
import { TrainingModel } from '../../training/model/train-model';
import { LORA_TARGETS, type LoraTarget } from '../../engine/ops/lora-targets';
import { openPeftAdapter } from '../adapter-setup';
import { createCliEngine, openModelDir } from '../engine-setup';
import { CliError, idsFlag, numberFlag, stringFlag, type Flags } from '../flags';

export const usage = 'grad --model DIR --adapter DIR --ids CSV --loss-last K --out FILE.safetensors';
export const needsGpu = true;

export async function run(flags: Flags) {
  const ids = idsFlag(flags, 'ids')!;
  const lastK = numberFlag(flags, 'loss-last');
  if (lastK === undefined) throw new CliError('missing --loss-last K');
  if (!Number.isInteger(lastK) || lastK < 1 || lastK > ids.length - 1)
    throw new CliError(`--loss-last must be an integer in 1..${ids.length - 1} (tokens with a prefix), got ${lastK}`);
  const out = stringFlag(flags, 'out', true);
  const adapterDir = stringFlag(flags, 'adapter', true);
  const model = await openModelDir(flags);
  const { config, tensors } = await openPeftAdapter(adapterDir);
  const targets = config.targets.filter((t): t is LoraTarget => (LORA_TARGETS as readonly string[]).includes(t));
  const unknown = config.targets.filter((t) => !(LORA_TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0)
    throw new CliError(`--adapter ${adapterDir}: target modules ${unknown.join(', ')} are not supported (supported: ${LORA_TARGETS.join(', ')})`);
  const engine = await createCliEngine(model, { format: 'f32', maxContext: ids.length });
  const adapter = new LoraAdapter(engine.ctx, engine.config, { rank: config.rank, alpha: config.alpha, targets });
  const train = new TrainingModel(engine, adapter, { sequences: 1, seqLen: ids.length, recompute: false });
  try {
    try {
      adapter.load(tensors);
    } catch (e) {
      throw new CliError(`--adapter ${adapterDir}: ${(e as Error).message}`);
    }
    const weights = ids.map((_, t) => (t >= ids.length - lastK ? 1 / lastK : 0));
    train.setBatch([ids], [weights]);
    await train.forwardLogProbs();
    const encoder = engine.ctx.device.createCommandEncoder();
    adapter.encodeZeroGrad(encoder);
    engine.ctx.device.queue.submit([encoder.finish()]);
    await train.backward();
    const grads = await adapter.read('grads');
    writeFileSync(out, writeSafetensors([...grads].map(([name, g]) => ({ name, dtype: 'F32' as const, shape: g.shape, data: fromFloat32(g.values, 'F32') }))));
  } finally {
    train.destroy();
    adapter.destroy();
    engine.destroy();
  }
}
