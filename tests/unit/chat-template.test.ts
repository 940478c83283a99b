// Qwen2.5 and Qwen3 chat templates rendered by our tokenizer must equal, byte for byte, what
// Python's apply_chat_template(..., tokenize=False) produced (tests/fixtures/chat-templates.json).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplateError, loadTokenizer, type ChatMessage, type QwenTokenizer, type ToolSpec, type TokenizerFamily } from '../../src/hf-io/tokenizer';
import { bundledTokenizerFiles, loadBundledTokenizer } from '../../models/tokenizers/bundled';

interface ChatCase {
  family: TokenizerFamily;
  name: string;
  messages: ChatMessage[];
  tools: ToolSpec[] | null;
  add_generation_prompt: boolean;
  enable_thinking?: boolean;
  expected: string;
  expected_ids: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/chat-templates.json', import.meta.url), 'utf8')) as {
  cases: ChatCase[];
};

const FAMILIES: TokenizerFamily[] = ['qwen2.5', 'qwen3'];
const tokenizers = {} as Record<TokenizerFamily, QwenTokenizer>;

beforeAll(async () => {
  for (const family of FAMILIES) tokenizers[family] = await loadBundledTokenizer(family);
});

const render = (tok: QwenTokenizer, c: ChatCase) =>
  tok.applyChatTemplate(c.messages, { tools: c.tools, addGenerationPrompt: c.add_generation_prompt, enableThinking: c.enable_thinking });

describe.each(FAMILIES)('%s chat template', (family) => {
  const cases = fixture.cases.filter((c) => c.family === family);

  it('has fixture cases with tools, tool calls and tool responses', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(cases.some((c) => c.tools && c.messages.some((m) => m.role === 'tool'))).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s equals the Hugging Face string and ids', (_, c) => {
    const tok = tokenizers[family];
    const text = render(tok, c);
    expect(text).toBe(c.expected);
    expect(tok.encodeChat(c.messages, { tools: c.tools, addGenerationPrompt: c.add_generation_prompt, enableThinking: c.enable_thinking })).toEqual(
      c.expected_ids,
    );
  });

  it('treats an empty tool list as no tools', () => {
    const tok = tokenizers[family];
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    expect(tok.applyChatTemplate(messages, { tools: [] })).toBe(tok.applyChatTemplate(messages));
    expect(tok.applyChatTemplate(messages)).not.toContain('<tools>');
  });
});

describe('family-specific behaviour', () => {
  const user: ChatMessage[] = [{ role: 'user', content: 'hi' }];

  it('Qwen2.5 injects its default system prompt; Qwen3 does not', () => {
    expect(tokenizers['qwen2.5'].applyChatTemplate(user)).toContain('You are Qwen, created by Alibaba Cloud. You are a helpful assistant.');
    expect(tokenizers.qwen3.applyChatTemplate(user)).toBe('<|im_start|>user\nhi<|im_end|>\n');
  });

  it('enableThinking=false adds an empty think block for Qwen3 only', () => {
    const q3 = tokenizers.qwen3.applyChatTemplate(user, { addGenerationPrompt: true, enableThinking: false });
    expect(q3.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    const q25 = tokenizers['qwen2.5'].applyChatTemplate(user, { addGenerationPrompt: true, enableThinking: false });
    expect(q25.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('renders an assistant tool call with null content like one with empty content', () => {
    const call = { type: 'function' as const, function: { name: 'read_file', arguments: { path: '/tmp' } } };
    for (const family of FAMILIES) {
      const tok = tokenizers[family];
      const withNull = tok.applyChatTemplate([...user, { role: 'assistant', content: null, tool_calls: [call] }]);
      const withEmpty = tok.applyChatTemplate([...user, { role: 'assistant', content: '', tool_calls: [call] }]);
      expect(withNull).toBe(withEmpty);
      expect(withNull).toContain('<tool_call>\n{"name": "read_file", "arguments": {"path": "/tmp"}}\n</tool_call>');
    }
  });
});

describe('invalid messages and tools', () => {
  const tok = () => tokenizers.qwen3;
  const bad = (messages: unknown, tools?: unknown) => () => tok().applyChatTemplate(messages as ChatMessage[], { tools: tools as ToolSpec[] });

  it('names the message and field', () => {
    expect(bad([])).toThrow(ChatTemplateError);
    expect(bad([])).toThrow(/messages must be a non-empty array/);
    expect(bad([{ role: 'hacker', content: 'x' }])).toThrow(/messages\[0\]\.role must be one of system, user, assistant, tool \(got "hacker"\)/);
    expect(bad([{ role: 'user', content: 'ok' }, { role: 'user' }])).toThrow(/messages\[1\]\.content must be a string/);
    expect(bad([{ role: 'user', content: null }])).toThrow(/messages\[0\]\.content must be a string/);
    expect(bad([{ role: 'tool', content: 'x', tool_calls: [] }])).toThrow(/messages\[0\]\.tool_calls is only allowed on assistant messages/);
    expect(bad([{ role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { arguments: {} } }] }])).toThrow(
      /messages\[0\]\.tool_calls\[0\]\.function\.name must be a non-empty string/,
    );
    expect(bad([{ role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'f', arguments: 3 } }] }])).toThrow(
      /messages\[0\]\.tool_calls\[0\]\.function\.arguments must be a JSON object or a JSON string/,
    );
  });

  it('names the tool and field', () => {
    const user = [{ role: 'user', content: 'x' }];
    expect(bad(user, [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }, { name: 'g' }])).toThrow(
      /tools\[1\] must be \{type: "function"/,
    );
    expect(bad(user, [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }])).toThrow(
      /tools\[0\]\.function\.parameters must be a JSON schema/,
    );
    expect(bad(user, 'send_email')).toThrow(/tools must be an array/);
  });

  it('takes the template from chat_template.jinja when given (newer hub layout)', async () => {
    const files = await bundledTokenizerFiles('qwen3');
    const { chat_template: template, ...config } = files.tokenizerConfig;
    const jinja = new TextEncoder().encode(template as string);
    const tok = loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: config, chatTemplateJinja: jinja });
    const messages: ChatMessage[] = [{ role: 'user', content: 'x' }];
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(tokenizers.qwen3.applyChatTemplate(messages, { addGenerationPrompt: true }));
  });

  it('says so when the config has no chat template', async () => {
    const files = await bundledTokenizerFiles('qwen3');
    const { chat_template: _, ...config } = files.tokenizerConfig;
    const noTemplate = loadTokenizer({ tokenizerJson: files.tokenizerJson, tokenizerConfig: config });
    expect(noTemplate.chatTemplate).toBeNull();
    expect(() => noTemplate.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/tokenizer_config\.json has no chat_template/);
  });
});
