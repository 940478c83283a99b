// npm run cli -- logits --model DIR --ids 3,17,42 [--quant f32|q8|q4] [--adapter DIR] --out FILE
// Writes {"logits": [[...one row per input position, full vocabulary...]]}.
import { writeFileSync } from 'node:fs';
import { CliError, idsFlag, stringFlag, type Flags } from '../flags';
import { openPeftAdapter } from '../adapter-setup';
import { mergeLora } from '../../training/merged-weights';
import { createCliEngine, openModelDir, quantFlag } from '../engine-setup';

export const usage = 'logits --model DIR --ids 3,17,42 [--quant f32|q8|q4] [--adapter DIR] --out FILE';
export const needsGpu = true;

export async function run(flags: Flags) {
  const ids = idsFlag(flags, 'ids')!;
  const out = stringFlag(flags, 'out', true);
  const format = quantFlag(flags);
  const adapterDir = stringFlag(flags, 'adapter');
  const model = await openModelDir(flags);
  // A PEFT adapter is merged into the base weights (W + (alpha/r)·B·A) before upload.
  const adapter = adapterDir ? await openPeftAdapter(adapterDir) : undefined;
  const weights = adapter ? mergeLora(model.checkpoint, adapter.tensors, adapter.config) : model.checkpoint;
  const engine = await createCliEngine({ ...model, checkpoint: weights }, { format, maxContext: ids.length }).catch((e: Error) => {
    throw adapter && /adapter/.test(e.message) ? new CliError(e.message) : e;
  });
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
