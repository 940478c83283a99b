// The model-turn codec and token-in, token-out transcripts on the real Qwen2.5 and Qwen3
// tokenizers and chat templates: sandbox episodes (tool call → tool response, verification request
// → verifier answer, final answer) played by a scripted agent through a Transcript. Every prompt
// must equal the fresh render of its conversation; where the template keeps history as sampled it
// must also equal previous prompt + sampled ids + delta (one training sequence); where it does not,
// the transcript must fall back, say why, and keep each sampled id in the context it was sampled in.
import { beforeAll, describe, expect, it } from 'vitest';
import { TurnCodec, turnText } from '../../src/agent/codec';
import { Transcript, TranscriptBook, type TranscriptStats } from '../../src/agent/transcript';
import type { QwenTokenizer, ToolSpec } from '../../src/model/tokenizer';
import { generateScenarios, runEpisode, type ChatMessage, type Policy, type Scenario } from '../../src/sandbox/index';
import { loadBundledTokenizer } from '../../models/tokenizers/bundled';
import { scriptedTurn, type ScriptedTurnOptions } from '../helpers/scripted-agent';

const tok = {} as Record<'qwen2.5' | 'qwen3', QwenTokenizer>;
let scenario: Scenario;

beforeAll(async () => {
  tok['qwen2.5'] = await loadBundledTokenizer('qwen2.5');
  tok.qwen3 = await loadBundledTokenizer('qwen3');
  // A scenario whose first tool the verifier is asked about: three turns, both kinds of answer.
  scenario = generateScenarios({ split: 'test', count: 9, seed: 3 }).find((s) => s.tools.length > 0)!;
});

interface Played {
  prompts: number[][];
  conversations: ChatMessage[][];
  sampled: number[][];
  transcript: Transcript;
  tools: ToolSpec[];
}

/** Plays the scenario with a scripted agent whose prompts come from one Transcript. */
async function play(codec: TurnCodec, script: ScriptedTurnOptions = {}): Promise<Played> {
  const played = { prompts: [], conversations: [], sampled: [] } as unknown as Played;
  const policy: Policy = {
    name: 'scripted-tokens',
    async act(conversation, tools) {
      played.tools = tools as unknown as ToolSpec[];
      played.transcript ??= new Transcript(codec, played.tools);
      const { promptIds } = played.transcript.next(conversation);
      const out = scriptedTurn(codec.tokenizer, promptIds, script);
      played.prompts.push(promptIds);
      played.conversations.push(conversation);
      played.sampled.push(out.ids);
      return { text: played.transcript.record(out), finished: out.finishReason !== 'length' };
    },
  };
  const result = await runEpisode(scenario, policy, { maxTurns: 3 });
  expect(result.endReason).not.toBe('policy_error');
  return played;
}

function freshRender(tokenizer: QwenTokenizer, p: Played, turn: number, enableThinking = false): number[] {
  return tokenizer.encodeChat(p.conversations[turn], { tools: p.tools, addGenerationPrompt: true, enableThinking });
}

const stats = (s: Partial<TranscriptStats> & { rewritten?: number; retokenized?: number }) => expect.objectContaining({
  ...(s.turns !== undefined ? { turns: s.turns } : {}),
  ...(s.continued !== undefined ? { continued: s.continued } : {}),
  fallbacks: { rewritten: s.rewritten ?? 0, retokenized: s.retokenized ?? 0 },
});

describe('Qwen2.5: one sequence per episode', () => {
  it('every prompt is the fresh render AND the previous prompt + sampled ids + the delta of the tool/verifier answer', async () => {
    const tokenizer = tok['qwen2.5'];
    const p = await play(new TurnCodec({ tokenizer }));
    expect(p.prompts).toHaveLength(3);
    expect(p.conversations[1].at(-1)!.role).toBe('tool');
    expect(p.conversations[2].at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('<tool_check_response>') });
    for (let t = 0; t < 3; t++) expect(p.prompts[t]).toEqual(freshRender(tokenizer, p, t));
    for (let t = 1; t < 3; t++) {
      const prefix = [...p.prompts[t - 1], ...p.sampled[t - 1]];
      expect(p.prompts[t].slice(0, prefix.length)).toEqual(prefix);
      const delta = tokenizer.decode(p.prompts[t].slice(prefix.length));
      expect(delta.startsWith('\n<|im_start|>user\n')).toBe(true);
      expect(delta.endsWith('<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
      expect(delta).toContain(t === 1 ? '<tool_response>' : '<tool_check_response>');
    }
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    const [seq, ...more] = p.transcript.sequences();
    expect(more).toEqual([]);
    expect(seq.ids).toEqual([...p.prompts[2], ...p.sampled[2]]);
    // sampled marks exactly the generated ids of every turn (stop token included), nothing else.
    const expected = new Uint8Array(seq.ids.length);
    for (let t = 0; t < 3; t++) expected.fill(1, p.prompts[t].length, p.prompts[t].length + p.sampled[t].length);
    expect(seq.sampled).toEqual(expected);
    expect(seq.sampled.reduce((a, b) => a + b, 0)).toBe(p.sampled.flat().length);
  });

  it('a turn cut by the token limit continues: the template closes it with <|im_end|>, a template token, not sampled', async () => {
    const tokenizer = tok['qwen2.5'];
    const p = await play(new TurnCodec({ tokenizer }), { stopId: null });
    expect(p.prompts.length).toBeGreaterThan(1);
    expect(p.transcript.stats).toEqual(stats({ continued: p.prompts.length - 1 }));
    const prefix = [...p.prompts[0], ...p.sampled[0]];
    expect(p.prompts[1][prefix.length]).toBe(tokenizer.tokenId('<|im_end|>'));
    const seq = p.transcript.sequences()[0];
    expect(seq.sampled[prefix.length]).toBe(0);
  });

  it('falls back (counted) when the sampled ids are not the tokenizer\'s encoding of the text, or the turn ended on <|endoftext|>', async () => {
    const tokenizer = tok['qwen2.5'];
    const odd = await play(new TurnCodec({ tokenizer }), { nonCanonical: true });
    expect(odd.transcript.stats).toEqual(stats({ turns: 3, continued: 0, retokenized: 2 }));
    const seqs = odd.transcript.sequences();
    expect(seqs).toHaveLength(3);
    // Each sampled id stays in the exact context it was sampled in.
    seqs.forEach((s, t) => expect(s.ids).toEqual([...odd.prompts[t], ...odd.sampled[t]]));
    for (let t = 0; t < 3; t++) expect(odd.prompts[t]).toEqual(freshRender(tokenizer, odd, t));

    const eot = await play(new TurnCodec({ tokenizer }), { stopId: tokenizer.tokenId('<|endoftext|>') });
    expect(eot.transcript.stats).toEqual(stats({ turns: 3, continued: 0, rewritten: 2 }));
  });
});

describe('Qwen3', () => {
  it('thinking off (the default): the template drops the empty think block of earlier turns, so every later turn falls back', async () => {
    const tokenizer = tok.qwen3;
    const codec = new TurnCodec({ tokenizer });
    expect(codec.enableThinking).toBe(false);
    const p = await play(codec);
    for (let t = 0; t < 3; t++) expect(p.prompts[t]).toEqual(freshRender(tokenizer, p, t));
    expect(tokenizer.decode(p.prompts[0])).toMatch(/<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n$/);
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 0, rewritten: 2 }));
    p.transcript.sequences().forEach((s, t) => expect(s.ids).toEqual([...p.prompts[t], ...p.sampled[t]]));
  });

  it('thinking on: history after a tool response is kept as sampled (continues); a verifier answer is a new query, so earlier think blocks go (falls back)', async () => {
    const tokenizer = tok.qwen3;
    const p = await play(new TurnCodec({ tokenizer, enableThinking: true }), { prefix: '<think>\nLet me see.\n</think>\n\n' });
    for (let t = 0; t < 3; t++) expect(p.prompts[t]).toEqual(freshRender(tokenizer, p, t, true));
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 1, rewritten: 1 }));
    const seqs = p.transcript.sequences();
    expect(seqs).toHaveLength(2);
    expect(seqs[0].ids).toEqual([...p.prompts[1], ...p.sampled[1]]);
    expect(seqs[1].ids).toEqual([...p.prompts[2], ...p.sampled[2]]);
  });
});

describe('codec and transcript book', () => {
  it('turn text drops only the stop token that ended the turn and keeps special tokens', () => {
    const tokenizer = tok['qwen2.5'];
    const codec = new TurnCodec({ tokenizer, modelEosIds: [tokenizer.tokenId('<|im_end|>'), 7] });
    expect(codec.stopIds).toEqual([tokenizer.tokenId('<|im_end|>'), 7, tokenizer.tokenId('<|endoftext|>')]);
    const ids = tokenizer.encode('hi<|im_start|>user<tool_call>');
    expect(codec.turnText({ ids: [...ids, 7], finishReason: 'eos' })).toBe('hi<|im_start|>user<tool_call>');
    expect(codec.turnText({ ids, finishReason: 'length' })).toBe('hi<|im_start|>user<tool_call>');
    expect(turnText(tokenizer, { ids: [...ids, tokenizer.tokenId('<|im_end|>')], finishReason: 'length' }, new Set(codec.stopIds))).toBe('hi<|im_start|>user<tool_call><|im_end|>');
  });

  it('matches each conversation to the episode it continues, even for identical concurrent episodes, and sums their stats', async () => {
    const tokenizer = tok['qwen2.5'];
    const book = new TranscriptBook(new TurnCodec({ tokenizer }));
    const tools: ToolSpec[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const start: ChatMessage[] = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'Weather?' }];
    const a = book.prompt(start, tools);
    const b = book.prompt(start, tools);
    expect(b.transcript).not.toBe(a.transcript);
    expect(b.promptIds).toEqual(a.promptIds);
    const textA = a.transcript.record(scriptedTurn(tokenizer, a.promptIds));
    const textB = b.transcript.record(scriptedTurn(tokenizer, b.promptIds, { prefix: 'B ' }));
    const next = (text: string) => [...start, { role: 'assistant', content: text }, { role: 'tool', name: 'get_weather', content: '{"t": 20}' }] as ChatMessage[];
    const b2 = book.prompt(next(textB), tools);
    const a2 = book.prompt(next(textA), tools);
    expect([a2.transcript, b2.transcript]).toEqual([a.transcript, b.transcript]);
    expect([a2.continued, b2.continued]).toEqual([true, true]);
    // Another episode's history, or changed earlier messages, start a new transcript.
    const other = book.prompt([{ role: 'system', content: 'other' }, ...next(textA).slice(1)], tools);
    expect([a.transcript, b.transcript]).not.toContain(other.transcript);
    expect(book.stats).toEqual(stats({ turns: 5, continued: 2 }));
    expect(() => a.transcript.next(next(textA))).toThrow(/not recorded/);

    // Past its capacity the book forgets the oldest transcripts but keeps counting their turns.
    const small = new TranscriptBook(new TurnCodec({ tokenizer }), 1);
    const first = small.prompt(start, tools);
    first.transcript.record(scriptedTurn(tokenizer, first.promptIds));
    small.prompt([{ role: 'system', content: 'other' }, start[1]], tools);
    expect(small.prompt(next(textA), tools).continued).toBe(false);
    expect(small.stats).toEqual(stats({ turns: 3, continued: 0 }));
  });
});
