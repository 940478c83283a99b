// Tokenisation on the real Qwen vocabulary, compared with ids from Python's Hugging Face tokenizer
// (tests/fixtures/tokenizer-cases.json, made by tools/reference/chat_templates.py).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTextStream, loadTokenizer, TokenizerError, type QwenTokenizer, type TokenizerFamily } from '../../src/hf-io/tokenizer';
import { bundledTokenizerFiles, loadBundledTokenizer, qwen25TokenizerJsonFromQwen3 } from '../../models/tokenizers/bundled';

interface TextCase {
  family: TokenizerFamily;
  text: string;
  ids: number[];
  tokens: string[];
  decoded: string;
  decoded_skip_special: string;
}
interface FamilyFacts {
  family: TokenizerFamily;
  special_token_ids: Record<string, number>;
  eos_token: string;
  pad_token: string;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/tokenizer-cases.json', import.meta.url), 'utf8')) as {
  cases: TextCase[];
  families: FamilyFacts[];
};

const FAMILIES: TokenizerFamily[] = ['qwen2.5', 'qwen3'];
const tokenizers = {} as Record<TokenizerFamily, QwenTokenizer>;

beforeAll(async () => {
  for (const family of FAMILIES) tokenizers[family] = await loadBundledTokenizer(family);
});

describe.each(FAMILIES)('%s tokenizer', (family) => {
  const cases = fixture.cases.filter((c) => c.family === family);
  const facts = fixture.families.find((f) => f.family === family)!;

  it('detects its family from the added tokens', () => {
    expect(tokenizers[family].family).toBe(family);
  });

  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('encodes %s like Hugging Face', (_, c) => {
    const tok = tokenizers[family];
    expect(tok.encode(c.text)).toEqual(c.ids);
    expect(c.ids.map((id) => tok.idToToken(id))).toEqual(c.tokens);
    expect(tok.decode(c.ids)).toBe(c.decoded);
    expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded_skip_special);
  });

  it('maps every added token to the id Python reports, as a single token', () => {
    const tok = tokenizers[family];
    for (const [token, id] of Object.entries(facts.special_token_ids)) {
      expect(tok.tokenId(token)).toBe(id);
      expect(tok.encode(token)).toEqual([id]);
      expect(tok.decode([id])).toBe(token);
    }
    expect(tok.eosTokenIds).toEqual([facts.special_token_ids[facts.eos_token], facts.special_token_ids['<|endoftext|>']]);
    expect(tok.padTokenId).toBe(facts.special_token_ids[facts.pad_token]);
    expect(tok.vocabSize).toBe(Math.max(...Object.values(facts.special_token_ids)) + 1);
  });

  it('round-trips Chinese, emoji (ZWJ sequences, flags, skin tones) and code', () => {
    const tok = tokenizers[family];
    const texts = [
      '安全第一：在执行敏感操作前请先确认。',
      '👩🏽‍💻 fixed it 👨‍👩‍👧‍👦🏳️‍⚧️🇨🇭 — ok?',
      'if (x !== null) { return `${a}\\n`; } // 注释',
      '<tool_call>\n{"name": "send_email", "arguments": {"to": "测试@例子.公司"}}\n</tool_call><|im_end|>',
    ];
    for (const text of texts) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('reports the Qwen-only token split: <think> is one token only in Qwen3', () => {
    const tok = tokenizers[family];
    if (family === 'qwen3') {
      expect(tok.tokenId('<think>')).toBe(151667);
    } else {
      expect(tok.findTokenId('<think>')).toBeUndefined();
      expect(() => tok.tokenId('<think>')).toThrow(/qwen2\.5 tokenizer has no single token "<think>"/);
      expect(tok.encode('<think>').length).toBeGreaterThan(1);
    }
  });
});

describe('decode', () => {
  it('drops ids above the vocabulary (unused embedding rows) like Hugging Face', () => {
    const tok = tokenizers.qwen3;
    const hello = tok.encode('Hello');
    expect(tok.decode([151935, ...hello, tok.vocabSize])).toBe('Hello');
    expect(tok.decode([])).toBe('');
  });

  it('rejects negative and fractional ids by value', () => {
    expect(() => tokenizers.qwen3.decode([1, -3])).toThrow(/token id -3/);
    expect(() => tokenizers.qwen3.decode([1.5])).toThrow(/token id 1.5/);
  });

  it('skips special tokens only when asked', () => {
    const tok = tokenizers['qwen2.5'];
    const ids = tok.encode('<|im_start|>assistant\nHi<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('assistant\nHi');
    expect(tok.isSpecialTokenId(tok.tokenId('<|im_end|>'))).toBe(true);
    // <tool_call> is an added token but not "special": it survives skipSpecialTokens, as in Python.
    expect(tok.isSpecialTokenId(tok.tokenId('<tool_call>'))).toBe(false);
  });
});

describe('loading from raw files', () => {
  it('accepts text and bytes as well as parsed JSON', async () => {
    const files = await bundledTokenizerFiles('qwen3');
    const tok = loadTokenizer({
      tokenizerJson: new TextEncoder().encode(JSON.stringify(files.tokenizerJson)),
      tokenizerConfig: JSON.stringify(files.tokenizerConfig),
    });
    expect(tok.encode('Hello 世界')).toEqual(tokenizers.qwen3.encode('Hello 世界'));
  });

  it('derives the Qwen2.5 tokenizer.json by dropping only the Qwen3 added tokens', async () => {
    const q3 = (await bundledTokenizerFiles('qwen3')).tokenizerJson;
    const q25 = qwen25TokenizerJsonFromQwen3(q3);
    const contents = (q25.added_tokens as { content: string }[]).map((t) => t.content);
    expect(contents).toHaveLength(22);
    expect(contents[0]).toBe('<|endoftext|>');
    expect(contents.at(-1)).toBe('<|file_sep|>');
    expect(q25.model).toBe(q3.model);
    expect((q3.added_tokens as unknown[]).length).toBe(26);
  });
});

describe('malformed tokenizer files', () => {
  const config = { eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: '' };
  const load =
    (tokenizerJson: unknown, tokenizerConfig: unknown = config) =>
    () =>
      loadTokenizer({ tokenizerJson: tokenizerJson as string, tokenizerConfig: tokenizerConfig as string });

  it('names the file and the JSON problem', () => {
    expect(load('{"model": {"type": "BPE",')).toThrow(TokenizerError);
    expect(load('{"model": {"type": "BPE",')).toThrow(/^tokenizer\.json: not valid JSON/);
    expect(load('{}', '{not json')).toThrow(/^tokenizer_config\.json: not valid JSON/);
    expect(load(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/tokenizer\.json: not valid UTF-8/);
    expect(load('[1, 2]')).toThrow(/tokenizer\.json: expected a JSON object/);
  });

  it('names the missing or wrong field', () => {
    expect(load({})).toThrow(/tokenizer\.json: missing "model" object/);
    expect(load({ model: { type: 'WordPiece', vocab: {} } })).toThrow(/model\.type is "WordPiece", expected "BPE"/);
    expect(load({ model: { type: 'BPE', vocab: [], merges: [] }, added_tokens: [] })).toThrow(/model\.vocab must be an object/);
    expect(load({ model: { type: 'BPE', vocab: {}, merges: [] } })).toThrow(/missing "added_tokens" array/);
    expect(load({ model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: [{ id: 'x' }] })).toThrow(/added_tokens\[0\]/);
  });

  it('rejects a BPE tokenizer that is not Qwen', () => {
    const json = { model: { type: 'BPE', vocab: { a: 0 }, merges: [] }, added_tokens: [{ id: 1, content: '<s>' }] };
    expect(load(json)).toThrow(/not a Qwen2\.5\/Qwen3 tokenizer/);
  });

  it('rejects a chat_template that is not a string', async () => {
    const files = await bundledTokenizerFiles('qwen3');
    expect(load(files.tokenizerJson, { ...files.tokenizerConfig, chat_template: 42 })).toThrow(/tokenizer_config\.json: chat_template must be a string/);
  });
});

describe('createTextStream', () => {
  it('emits whole characters as ids arrive and joins to the full decode', () => {
    const tok = tokenizers.qwen3;
    const text = 'Hi 👨‍👩‍👧‍👦 你好世界 🇨🇭<|im_end|>';
    const ids = tok.encode(text);
    const stream = createTextStream(tok);
    const chunks = ids.map((id) => stream.push(id));
    chunks.push(stream.flush());
    expect(chunks.join('')).toBe(tok.decode(ids));
    expect(chunks.some((c) => c.includes('\uFFFD'))).toBe(false);
    // The family emoji spans several byte tokens; some pushes had to wait for the rest of it.
    expect(chunks.filter((c) => c === '').length).toBeGreaterThan(0);
  });

  it('does not hold back invalid bytes forever', () => {
    const tok = tokenizers.qwen3;
    const lone = tok.tokenId('ð'); // the byte 0xF0 alone: the lead byte of a 4-byte character
    const stream = createTextStream(tok);
    const out = [lone, lone, lone, lone, lone].map((id) => stream.push(id)).join('') + stream.flush();
    expect(out).toContain('\uFFFD');
  });
});
