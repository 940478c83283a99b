// npm run cli -- generate --model DIR (--prompt TEXT | --ids CSV) [--max-new-tokens N]
//   [--greedy | --temperature T --top-p P --seed S] [--quant f32|q8|q4] [--json] [--raw]
// --prompt is wrapped in the model's chat template as one user turn (add --raw to tokenize the
// text as it is). With --json it prints {"ids": [...generated ids], "text": "..."}.
import { generate, type SamplingOptions } from '../../engine/generate';
import { createTextStream } from '../../hf-io/tokenizer';
import { boolFlag, CliError, idsFlag, numberFlag, stringFlag, type Flags } from '../flags';
import { cliTokenizer, createCliEngine, openModelDir, quantFlag } from '../engine-setup';

export const usage =
  'generate --model DIR (--prompt TEXT | --ids CSV) [--max-new-tokens N] [--greedy | --temperature T --top-p P --seed S] [--quant f32|q8|q4] [--json] [--raw]';
export const needsGpu = true;

export async function run(flags: Flags) {
  const prompt = stringFlag(flags, 'prompt');
  if ((prompt === undefined) === !flags.has('ids')) throw new CliError('give exactly one of --prompt TEXT or --ids CSV');
  const maxNewTokens = numberFlag(flags, 'max-new-tokens', 64)!;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new CliError(`--max-new-tokens must be a positive integer, got ${maxNewTokens}`);
  const greedy = boolFlag(flags, 'greedy');
  if (greedy && (flags.has('temperature') || flags.has('top-p'))) throw new CliError('--greedy cannot be combined with --temperature or --top-p');
  const sampling: SamplingOptions = greedy
    ? { greedy: true }
    : {
        temperature: numberFlag(flags, 'temperature', 0.7),
        topP: numberFlag(flags, 'top-p', 0.8),
        topK: numberFlag(flags, 'top-k', 20),
        seed: numberFlag(flags, 'seed', 0),
      };
  if (!greedy && !(sampling.temperature! > 0)) throw new CliError(`--temperature must be > 0 (use --greedy for argmax), got ${sampling.temperature}`);
  if (!greedy && !(sampling.topP! > 0 && sampling.topP! <= 1)) throw new CliError(`--top-p must be in (0, 1], got ${sampling.topP}`);
  const json = boolFlag(flags, 'json');
  const format = quantFlag(flags);
  const dir = stringFlag(flags, 'model', true);
  const model = await openModelDir(flags);
  const hasTokenizer = model.files.has('tokenizer.json') && model.files.has('tokenizer_config.json');
  const tokenizer = prompt !== undefined || hasTokenizer ? await cliTokenizer(model, dir) : undefined;
  const promptIds =
    prompt !== undefined
      ? boolFlag(flags, 'raw')
        ? tokenizer!.encode(prompt)
        : tokenizer!.encodeChat([{ role: 'user', content: prompt }], { addGenerationPrompt: true })
      : idsFlag(flags, 'ids')!;
  const engine = await createCliEngine(model, { format, maxContext: Math.min(model.config.maxPositionEmbeddings, promptIds.length + maxNewTokens) });
  try {
    const stopIds = tokenizer ? [...new Set([...engine.config.eosTokenIds, ...tokenizer.eosTokenIds])] : engine.config.eosTokenIds;
    // Without --json, text streams to stdout as tokens arrive (ids when there is no tokenizer).
    const stream = tokenizer && !json ? createTextStream(tokenizer, { skipSpecialTokens: true }) : undefined;
    const [out] = await generate(engine, [{ promptIds, maxNewTokens, stopIds }], sampling, {
      detokenize: tokenizer ? (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }) : undefined,
      onToken: json ? undefined : (_seq, id) => process.stdout.write(stream ? stream.push(id) : `${id},`),
    });
    if (json) console.log(JSON.stringify({ ids: out.ids, text: out.text ?? '' }));
    else process.stdout.write(`${stream ? stream.flush() : ''}\n`);
  } finally {
    engine.destroy();
  }
}
