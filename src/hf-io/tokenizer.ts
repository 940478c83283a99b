// The Qwen tokenizer (byte-level BPE, 151k vocabulary) and chat template, built from the model's
// own tokenizer.json + tokenizer_config.json held in memory: no hub or file access, so the same
// code runs in Node, in a browser worker and offline. transformers.js does the BPE and renders
// the Jinja template exactly as Hugging Face does (checked against Python fixtures in tests/).
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelLoadError } from './errors';
import { templateVariables, ChatTemplateError, type ChatMessage, type ChatTemplateOptions } from './chat-template';

export type { ChatMessage, ChatTemplateOptions, ToolCall, ToolSpec, ChatRole } from './chat-template';
export { ChatTemplateError } from './chat-template';

export type TokenizerFamily = 'qwen2.5' | 'qwen3';

/** A JSON file as fetched: already parsed, text, or raw bytes. */
export type JsonFile = Record<string, unknown> | string | Uint8Array | ArrayBuffer;

export interface TokenizerFiles {
  tokenizerJson: JsonFile;
  tokenizerConfig: JsonFile;
  /** Contents of chat_template.jinja, which newer hub repos ship instead of a config entry; wins over it. */
  chatTemplateJinja?: string | Uint8Array | ArrayBuffer;
}

/** tokenizer.json or tokenizer_config.json is missing, malformed or not a Qwen tokenizer. */
export class TokenizerError extends ModelLoadError {
  override name = 'TokenizerError';
}

export interface DecodeOptions {
  /** Drop special tokens (<|im_start|>, <|im_end|>, <|endoftext|>, ...) from the text. */
  skipSpecialTokens?: boolean;
}

export interface QwenTokenizer {
  readonly family: TokenizerFamily;
  /** One past the highest token id (BPE vocabulary + added tokens; less than the embedding rows). */
  readonly vocabSize: number;
  /** Ids that end generation: <|im_end|> and <|endoftext|>, as in Qwen's generation_config.json. */
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number;
  /** The Jinja chat template from tokenizer_config.json (null when the config has none). */
  readonly chatTemplate: string | null;
  /** Text to ids. Added tokens written in the text (<|im_start|>, <tool_call>) become single ids. */
  encode(text: string): number[];
  /** Ids to text. Ids above the vocabulary (padding rows of the embedding) decode to nothing. */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The id of one token string, e.g. tokenId('<tool_call>'); throws if it is not a single token. */
  tokenId(token: string): number;
  /** Like tokenId but undefined for unknown tokens (e.g. '<think>' in Qwen2.5). */
  findTokenId(token: string): number | undefined;
  /** The token string of an id (byte-level form, e.g. 'Ġhello'), undefined if out of range. */
  idToToken(id: number): string | undefined;
  isSpecialTokenId(id: number): boolean;
  /** The prompt string, byte-identical to Hugging Face's apply_chat_template(..., tokenize=False). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
  /** encode(applyChatTemplate(...)). */
  encodeChat(messages: readonly ChatMessage[], options?: ChatTemplateOptions): number[];
}

function textOf(file: string | Uint8Array | ArrayBuffer, fileName: string): string {
  if (typeof file === 'string') return file;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(file);
  } catch {
    throw new TokenizerError(`${fileName}: not valid UTF-8 text`);
  }
}

function parseJsonFile(file: JsonFile, fileName: string): Record<string, unknown> {
  let parsed: unknown = file;
  if (typeof file === 'string' || file instanceof Uint8Array || file instanceof ArrayBuffer) {
    const text = textOf(file, fileName);
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new TokenizerError(`${fileName}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TokenizerError(`${fileName}: expected a JSON object at the top level`);
  }
  return parsed as Record<string, unknown>;
}

interface AddedTokenEntry {
  id: number;
  content: string;
}

/** Checks the parts of tokenizer.json that Qwen needs, so a broken file fails here, by name. */
function checkTokenizerJson(json: Record<string, unknown>): AddedTokenEntry[] {
  const model = json.model as Record<string, unknown> | undefined;
  if (typeof model !== 'object' || model === null) throw new TokenizerError('tokenizer.json: missing "model" object');
  if (model.type !== 'BPE') {
    throw new TokenizerError(`tokenizer.json: model.type is ${JSON.stringify(model.type)}, expected "BPE" (Qwen byte-level BPE)`);
  }
  if (typeof model.vocab !== 'object' || model.vocab === null || Array.isArray(model.vocab)) {
    throw new TokenizerError('tokenizer.json: model.vocab must be an object mapping token strings to ids');
  }
  if (!Array.isArray(model.merges)) throw new TokenizerError('tokenizer.json: model.merges must be an array');
  if (!Array.isArray(json.added_tokens)) throw new TokenizerError('tokenizer.json: missing "added_tokens" array');
  return json.added_tokens.map((token: unknown, i: number) => {
    const t = token as Partial<AddedTokenEntry> | null;
    if (typeof t !== 'object' || t === null || !Number.isInteger(t.id) || typeof t.content !== 'string') {
      throw new TokenizerError(`tokenizer.json: added_tokens[${i}] must have an integer "id" and a string "content"`);
    }
    return { id: t.id as number, content: t.content };
  });
}

/** Qwen3 adds <think>/<tool_response> (ids 151665+) on top of Qwen2.5's ChatML and tool-call tokens. */
export function detectTokenizerFamily(addedTokens: readonly { content: string }[]): TokenizerFamily {
  const contents = new Set(addedTokens.map((t) => t.content));
  if (!contents.has('<|im_start|>') || !contents.has('<|im_end|>') || !contents.has('<tool_call>')) {
    throw new TokenizerError('tokenizer.json: not a Qwen2.5/Qwen3 tokenizer (added_tokens lack <|im_start|>, <|im_end|> or <tool_call>)');
  }
  return contents.has('<think>') ? 'qwen3' : 'qwen2.5';
}

function chatTemplateOf(config: Record<string, unknown>): string | null {
  const template = config.chat_template;
  if (template === undefined || template === null) return null;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    // Some configs store named templates; the default one is what apply_chat_template uses.
    const named = template.find((t) => t && (t as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (named && typeof named.template === 'string') return named.template;
  }
  throw new TokenizerError('tokenizer_config.json: chat_template must be a string (or a list with a "default" template)');
}

export interface LoadTokenizerOptions {
  /** Override family detection (normally read from the added tokens). */
  family?: TokenizerFamily;
}

export function loadTokenizer(files: TokenizerFiles, options: LoadTokenizerOptions = {}): QwenTokenizer {
  const json = parseJsonFile(files.tokenizerJson, 'tokenizer.json');
  const config = parseJsonFile(files.tokenizerConfig, 'tokenizer_config.json');
  const addedTokens = checkTokenizerJson(json);
  const family = options.family ?? detectTokenizerFamily(addedTokens);
  const chatTemplate = files.chatTemplateJinja !== undefined ? textOf(files.chatTemplateJinja, 'chat_template.jinja') : chatTemplateOf(config);

  let hf: PreTrainedTokenizer;
  try {
    // The constructor only reads the objects; transformers.js keeps references, never mutates them.
    hf = new PreTrainedTokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json: could not build the tokenizer (${(e as Error).message})`);
  }

  // One past the highest id (ids are dense in Qwen files, but do not rely on it).
  let vocabSize = 0;
  for (const id of hf.get_vocab().values()) vocabSize = Math.max(vocabSize, id + 1);
  const specialIds = new Set<number>(hf.all_special_ids);
  const findTokenId = (token: string): number | undefined => {
    const id = hf.convert_tokens_to_ids(token) as number | undefined | null;
    return typeof id === 'number' ? id : undefined;
  };
  const requireId = (token: string, fileName: string): number => {
    const id = findTokenId(token);
    if (id === undefined) throw new TokenizerError(`${fileName}: the vocabulary has no ${token} token`);
    return id;
  };
  const eosTokenIds = [...new Set([requireId('<|im_end|>', 'tokenizer.json'), requireId('<|endoftext|>', 'tokenizer.json')])];
  const padToken = typeof config.pad_token === 'string' ? config.pad_token : '<|endoftext|>';
  const padTokenId = requireId(padToken, 'tokenizer_config.json (pad_token)');

  const applyChatTemplate = (messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string => {
    if (chatTemplate === null) throw new ChatTemplateError('tokenizer_config.json has no chat_template');
    const { messages: checked, ...vars } = templateVariables(messages, opts);
    try {
      return hf.apply_chat_template(checked, { ...vars, chat_template: chatTemplate, tokenize: false }) as string;
    } catch (e) {
      throw new ChatTemplateError(`${family} chat template failed to render: ${(e as Error).message}`);
    }
  };

  const tokenizer: QwenTokenizer = {
    family,
    vocabSize,
    eosTokenIds,
    padTokenId,
    chatTemplate,
    encode(text) {
      if (typeof text !== 'string') throw new TypeError(`encode expects a string, got ${typeof text}`);
      return hf.encode(text, { add_special_tokens: false });
    },
    decode(ids, opts = {}) {
      const known: number[] = [];
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0) throw new RangeError(`decode: token id ${id} is not a non-negative integer`);
        // The embedding has more rows than the tokenizer has tokens; Hugging Face drops those ids.
        if (id < vocabSize) known.push(id);
      }
      if (known.length === 0) return '';
      return hf.decode(known, { skip_special_tokens: opts.skipSpecialTokens ?? false });
    },
    tokenId(token) {
      const id = findTokenId(token);
      if (id === undefined) throw new TokenizerError(`${family} tokenizer has no single token ${JSON.stringify(token)}`);
      return id;
    },
    findTokenId,
    idToToken(id) {
      return Number.isInteger(id) && id >= 0 && id < vocabSize ? hf._tokenizer.id_to_token(id) : undefined;
    },
    isSpecialTokenId(id) {
      return specialIds.has(id);
    },
    applyChatTemplate,
    encodeChat(messages, opts) {
      return tokenizer.encode(applyChatTemplate(messages, opts));
    },
  };
  return tokenizer;
}

export interface TextStream {
  /** Text completed by this id ('' while a multi-byte character is still incomplete). */
  push(id: number): string;
  /** Whatever is still held back (an incomplete character decodes as U+FFFD). */
  flush(): string;
}

/** A UTF-8 character is at most 4 bytes, so more pending byte tokens than this is invalid output. */
const MAX_PENDING_IDS = 4;

/**
 * Decodes generated ids as they arrive. Byte-level BPE splits emoji and CJK characters across
 * tokens; decoding each id alone would print U+FFFD halves, so ids are held until they complete a
 * character. Qwen's decoder adds no spaces between tokens, so text decoded in pieces equals text
 * decoded at once.
 */
export function createTextStream(tokenizer: QwenTokenizer, options: DecodeOptions = {}): TextStream {
  let pending: number[] = [];
  const flush = (): string => {
    const text = pending.length > 0 ? tokenizer.decode(pending, options) : '';
    pending = [];
    return text;
  };
  return {
    push(id) {
      pending.push(id);
      const text = tokenizer.decode(pending, options);
      if (text.endsWith('\uFFFD') && pending.length < MAX_PENDING_IDS) return '';
      pending = [];
      return text;
    },
    flush,
  };
}
