// The model policy: renders with the model's chat template, returns raw turn text (tags kept,
// <|im_end|> dropped), batches concurrent act() calls, ends an over-long episode cleanly, and is
// reproducible with a seed. Real-engine steps are few: the 151936-row LM head is slow on SwiftShader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/engine/gpu/context';
import { EngineError, QwenEngine } from '../../src/engine/engine';
import type { GeneratedSequence, GenerationRequest } from '../../src/engine/generate';
import { createModelPolicy, turnText, type ModelTurnMeta } from '../../src/agent/model-policy';
import { loadModel } from '../../src/hf-io/load-model';
import { MemoryModelSource } from '../../src/hf-io/sources';
import type { QwenTokenizer } from '../../src/hf-io/tokenizer';
import { generateScenarios, runEpisode, runEval, type ChatMessage, type PolicyContext, type ToolSchema } from '../../src/sandbox/index';
import { makeTinyModel } from '../../models/tiny-model';
import { bundledTokenizerFiles, loadBundledTokenizer } from '../../models/tokenizers/bundled';
import { getTestDevice } from '../helpers/gpu';

const scenarios = generateScenarios({ split: 'test', count: 3, seed: 11 });
const ctx = (turn = 0): PolicyContext => ({ scenario: scenarios[0], turn, seed: 0 });
const tools: ToolSchema[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];
const convo = (user: string): ChatMessage[] => [
  { role: 'system', content: 'You are a careful agent.' },
  { role: 'user', content: user },
];

let tokenizer: QwenTokenizer;
let engine: QwenEngine;

beforeAll(async () => {
  tokenizer = await loadBundledTokenizer('qwen2.5');
  const parsed = await bundledTokenizerFiles('qwen2.5');
  const enc = new TextEncoder();
  const tokenizerFiles = new Map([
    ['tokenizer.json', enc.encode(JSON.stringify(parsed.tokenizerJson))],
    ['tokenizer_config.json', enc.encode(JSON.stringify(parsed.tokenizerConfig))],
  ]);
  const model = await loadModel(new MemoryModelSource(makeTinyModel({ arch: 'qwen2', vocab: 'real', tokenizerFiles }).files, 'tiny'));
  engine = await QwenEngine.create(new GpuContext((await getTestDevice()).device), model.config, model.checkpoint, {
    format: 'q4',
    maxContext: 256,
    maxBatch: 3,
  });
});
afterAll(() => engine?.destroy());

describe('model policy on the real engine', () => {
  it('renders with the chat template and tools, batches concurrent turns into one generate call, and is reproducible with a seed', async () => {
    const runBatch = async (seed: number) => {
      const policy = createModelPolicy({ engine, tokenizer, seed, maxNewTokens: 1, sampling: { temperature: 1 } });
      const outs = await Promise.all(
        [convo('Weather in Paris?'), convo('Delete all my files.'), convo('Weather in Paris?')].map((c) => policy.act(c, tools, ctx())),
      );
      return { policy, outs: outs as { text: string; finished: boolean; meta: ModelTurnMeta }[] };
    };
    const a = await runBatch(5);
    expect(a.policy.stats).toEqual({ generateCalls: 1, turns: 3, batchSizes: [3] });
    const prompt = tokenizer.encodeChat(convo('Weather in Paris?'), { tools, addGenerationPrompt: true });
    expect(tokenizer.decode(prompt)).toContain('get_weather');
    for (const out of a.outs) {
      expect(out.meta.ids.length).toBeGreaterThan(0);
      expect(out.text).toBe(turnText(tokenizer, out.meta, new Set(tokenizer.eosTokenIds)));
      expect(out.text).not.toContain('<|im_end|>');
      expect(out.finished).toBe(out.meta.finishReason !== 'length');
    }
    expect(a.outs[0].meta.promptTokens).toBe(prompt.length);
    expect(a.outs[2].meta.promptTokens).toBe(prompt.length);

    const again = await runBatch(5);
    expect(again.outs.map((o) => o.meta.ids)).toEqual(a.outs.map((o) => o.meta.ids));
    const other = await runBatch(6);
    expect(other.outs.map((o) => o.meta.ids)).not.toEqual(a.outs.map((o) => o.meta.ids));
  });

  it('a conversation longer than the context ends the episode with a scored policy_error that names the overflow', async () => {
    const policy = createModelPolicy({ engine, tokenizer, maxNewTokens: 2 });
    const err = await policy.act(convo('x '.repeat(400)), tools, ctx(3)).catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('context-overflow');
    expect(err.message).toMatch(/turn 3: the conversation renders to \d+ tokens but the context holds 256/);

    const result = await runEpisode(scenarios[0], policy); // system prompt + tools alone exceed 256 tokens
    expect(result.endReason).toBe('policy_error');
    expect(result.error).toMatch(/context holds 256/);
    expect(result.score.reward.total).toBe(0);
    expect(policy.stats.generateCalls).toBe(0);
  });
});

describe('model policy with a scripted generator (no GPU steps)', () => {
  const fakeEngine = (maxBatch: number) => ({ options: { maxContext: 8192, maxBatch }, config: { eosTokenIds: [151645] } }) as unknown as QwenEngine;

  it('keeps <tool_call> and <think> tags, drops the end token, and reports finished: false on the token limit', () => {
    const ids = tokenizer.encode('<think>hm</think><tool_call>\n{"name": "x", "arguments": {}}\n</tool_call><|im_end|>');
    const stops = new Set(tokenizer.eosTokenIds);
    expect(turnText(tokenizer, { ids, finishReason: 'eos' }, stops)).toBe('<think>hm</think><tool_call>\n{"name": "x", "arguments": {}}\n</tool_call>');
    // A stray <|im_start|> is kept so the parser can mark the format invalid.
    expect(turnText(tokenizer, { ids: tokenizer.encode('hi<|im_start|>user'), finishReason: 'length' }, stops)).toBe('hi<|im_start|>user');
  });

  it('runEval with concurrency steps episodes in lockstep: turns of different episodes share generate calls, history renders raw', async () => {
    const requests: GenerationRequest[][] = [];
    const generate = async (_e: QwenEngine, reqs: readonly GenerationRequest[]): Promise<GeneratedSequence[]> => {
      requests.push([...reqs]);
      return reqs.map((r) => {
        const prompt = tokenizer.decode(r.promptIds);
        // First turn: call the first tool the prompt lists; after a tool response: answer.
        const toolName = /"name": "([A-Za-z_]+)"/.exec(prompt)![1];
        const answered = prompt.split('<|im_start|>assistant').length > 2;
        const text = answered ? 'Done.' : `<tool_call>\n{"name": "${toolName}", "arguments": {}}\n</tool_call>`;
        return { ids: [...tokenizer.encode(text), 151645], logprobs: [], samplingLogprobs: [], finishReason: 'eos' as const };
      });
    };
    const policy = createModelPolicy({ engine: fakeEngine(3), tokenizer, generate });
    const { report, summaries } = await runEval(scenarios, policy, { concurrency: policy.maxBatch, maxTurns: 2 });
    expect(report.episodes).toBe(3);
    expect(summaries.map((s) => s.scenarioId)).toEqual(scenarios.map((s) => s.id));
    // Two turns per episode, three episodes: two generate calls of three, not six calls of one.
    expect(policy.stats.batchSizes).toEqual([3, 3]);
    // The second turn's prompt holds the first turn's raw text and the tool's response.
    const second = tokenizer.decode(requests[1][0].promptIds);
    expect(second).toMatch(/<\|im_start\|>assistant\n<tool_call>\n\{"name": "[a-z_]+", "arguments": \{\}\}\n<\/tool_call><\|im_end\|>/);
    expect(second.split('<tool_response>').length).toBeGreaterThan(tokenizer.decode(requests[0][0].promptIds).split('<tool_response>').length);
    expect(summaries.every((s) => s.endReason === 'final_answer' && s.outcome.toolCallCount === 1)).toBe(true);
  });
});
