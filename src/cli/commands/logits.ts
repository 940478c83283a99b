// npm run cli -- logits --model DIR --ids 3,17,42 [--quant f32|q8|q4] [--adapter DIR] --out FILE
// Writes {"logits": [[...one row per input position, full vocabulary...]]}.
import { writeFileSync } from 'node:fs';
import { CliError, idsFlag, stringFlag, type Flags } from '../flags';
import { createCliEngine, openModelDir, quantFlag } from '../engine-setup';

export const usage = 'logits --model DIR --ids 3,17,42 [--quant f32|q8|q4] [--adapter DIR] --out FILE';
export const needsGpu = true;

export async function run(flags: Flags) {
  const ids = idsFlag(flags, 'ids')!;
  const out = stringFlag(flags, 'out', true);
  const format = quantFlag(flags);
  if (flags.has('adapter')) throw new CliError('--adapter: applying PEFT adapters arrives with the LoRA trainer (not available in this build)');
  const model = await openModelDir(flags);
  const engine = await createCliEngine(model, { format, maxContext: ids.length });
  try {
    const [logits] = await engine.logits([ids]);
    const V = engine.config.vocabSize;
    const rows: number[][] = [];
    for (let t = 0; t < ids.length; t++) rows.push(Array.from(logits.subarray(t * V, (t + 1) * V)));
    writeFileSync(out, JSON.stringify({ logits: rows }));
  } finally {
    engine.destroy();
  }
}
