// The model-turn codec and token-in, token-out transcripts on the real Qwen2.5 and Qwen3
// tokenizers and chat templates: sandbox episodes (tool call → tool response, verification request
// → verifier answer, final answer) played by a scripted agent through a Transcript. Every later
// prompt must be the previous prompt + the sampled ids + the delta (one training sequence, what the
// model saw). Against the fresh render of the whole conversation: with Qwen2.5 and canonical ids
// it is equal id for id; where the sampled ids are not the tokenizer's encoding, equal as text;
// with Qwen3 equal as text once the think blocks the template drops from earlier turns are put
// back. A conversation whose assistant message is not the recorded turn falls back, counted.
import { beforeAll, describe, expect, it } from 'vitest';
import { TurnCodec, turnText } from '../../src/agent/codec';
import { Transcript, TranscriptBook, type TranscriptStats } from '../../src/agent/transcript';
import type { QwenTokenizer, ToolSpec } from '../../src/hf-io/tokenizer';
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

const stats = (s: Partial<TranscriptStats> & { rewritten?: number }) =>
  expect.objectContaining({
    ...(s.turns !== undefined ? { turns: s.turns } : {}),
    ...(s.continued !== undefined ? { continued: s.continued } : {}),
    fallbacks: { rewritten: s.rewritten ?? 0 },
  });

/** Every later prompt starts with the previous prompt + the turn sampled for it; returns the deltas as text. */
function expectPrefixPlusDelta(tokenizer: QwenTokenizer, p: Played): string[] {
  const deltas: string[] = [];
  for (let t = 1; t < p.prompts.length; t++) {
    const prefix = [...p.prompts[t - 1], ...p.sampled[t - 1]];
    expect(p.prompts[t].slice(0, prefix.length)).toEqual(prefix);
    deltas.push(tokenizer.decode(p.prompts[t].slice(prefix.length)));
  }
  return deltas;
}

/** The one training sequence: the last prompt + its turn, every turn's sampled ids marked and nothing else. */
function expectOneSequence(p: Played) {
  const [seq, ...more] = p.transcript.sequences();
  expect(more).toEqual([]);
  const last = p.prompts.length - 1;
  expect(seq.ids).toEqual([...p.prompts[last], ...p.sampled[last]]);
  const expected = new Uint8Array(seq.ids.length);
  p.prompts.forEach((prompt, t) => expected.fill(1, prompt.length, prompt.length + p.sampled[t].length));
  expect(seq.sampled).toEqual(expected);
}

describe('Qwen2.5: one sequence per episode', () => {
  it('every prompt is the fresh render AND the previous prompt + sampled ids + the delta of the tool/verifier answer', async () => {
    const tokenizer = tok['qwen2.5'];
    const p = await play(new TurnCodec({ tokenizer }));
    expect(p.prompts).toHaveLength(3);
    expect(p.conversations[1].at(-1)!.role).toBe('tool');
    expect(p.conversations[2].at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('<tool_check_response>') });
    for (let t = 0; t < 3; t++) expect(p.prompts[t]).toEqual(freshRender(tokenizer, p, t));
    expectPrefixPlusDelta(tokenizer, p).forEach((delta, i) => {
      expect(delta.startsWith('\n<|im_start|>user\n')).toBe(true);
      expect(delta.endsWith('<|im_end|>\n<|im_start|>assistant\n')).toBe(true);
      expect(delta).toContain(i === 0 ? '<tool_response>' : '<tool_check_response>');
    });
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    expectOneSequence(p);
    expect(p.transcript.sequences()[0].sampled.reduce((a, b) => a + b, 0)).toBe(p.sampled.flat().length);
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

  it("keeps sampled ids that are not the tokenizer's encoding of their text, and a turn ended on <|endoftext|>, as sampled (no fallback)", async () => {
    const tokenizer = tok['qwen2.5'];
    const odd = await play(new TurnCodec({ tokenizer }), { nonCanonical: true });
    expect(odd.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    expectPrefixPlusDelta(tokenizer, odd);
    expectOneSequence(odd);
    for (let t = 0; t < 3; t++) {
      // Same text as the fresh render, other ids (the turns' own).
      expect(tokenizer.decode(odd.prompts[t])).toBe(tokenizer.decode(freshRender(tokenizer, odd, t)));
      if (t > 0) expect(odd.prompts[t]).not.toEqual(freshRender(tokenizer, odd, t));
    }

    const eot = await play(new TurnCodec({ tokenizer }), { stopId: tokenizer.tokenId('<|endoftext|>') });
    expect(eot.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    // The sampled <|endoftext|> stays; the template's <|im_end|> closes the turn after it, unsampled.
    expectPrefixPlusDelta(tokenizer, eot).forEach((delta) => expect(delta.startsWith('<|im_end|>\n<|im_start|>user\n')).toBe(true));
    expectOneSequence(eot);
    for (let t = 1; t < 3; t++) expect(tokenizer.decode(eot.prompts[t]).replaceAll('<|endoftext|>', '')).toBe(tokenizer.decode(freshRender(tokenizer, eot, t)));
  });

  it("falls back (counted) only where the conversation's assistant message is not the turn recorded", async () => {
    const tokenizer = tok['qwen2.5'];
    const codec = new TurnCodec({ tokenizer });
    const tools: ToolSpec[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const start: ChatMessage[] = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'Weather?' },
    ];
    const transcript = new Transcript(codec, tools);
    const first = transcript.next(start);
    const text = transcript.record(scriptedTurn(tokenizer, first.promptIds));
    const edited = [...start, { role: 'assistant', content: `${text} (edited)` }, { role: 'tool', name: 'get_weather', content: '{"t": 20}' }] as ChatMessage[];
    const second = transcript.next(edited);
    expect(second.continued).toBe(false);
    expect(second.promptIds).toEqual(codec.render(edited, tools));
    expect(transcript.stats).toEqual(stats({ turns: 2, continued: 0, rewritten: 1 }));
    transcript.record(scriptedTurn(tokenizer, second.promptIds));
    expect(transcript.sequences()).toHaveLength(2);
  });
});

/** A Qwen3 prompt's text with the think blocks the template drops from earlier assistant turns dropped too. */
function withoutEarlierThink(text: string, thinkBlock: RegExp): string {
  const opening = '<|im_start|>assistant\n';
  const parts = text.split(opening);
  // The last part follows the generation prompt: the template renders its think block itself.
  return parts.map((part, i) => (i === 0 || i === parts.length - 1 ? part : part.replace(thinkBlock, ''))).join(opening);
}

describe('Qwen3', () => {
  it('thinking off (the default): one sequence; the empty think blocks the model saw stay in earlier turns, where the fresh render drops them', async () => {
    const tokenizer = tok.qwen3;
    const codec = new TurnCodec({ tokenizer });
    expect(codec.enableThinking).toBe(false);
    const p = await play(codec);
    expect(p.prompts[0]).toEqual(freshRender(tokenizer, p, 0));
    expect(tokenizer.decode(p.prompts[0])).toMatch(/<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n$/);
    expectPrefixPlusDelta(tokenizer, p).forEach((delta) => {
      expect(delta.startsWith('\n<|im_start|>user\n')).toBe(true);
      expect(delta.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n')).toBe(true);
    });
    for (let t = 1; t < 3; t++) {
      const seen = tokenizer.decode(p.prompts[t]);
      const fresh = tokenizer.decode(freshRender(tokenizer, p, t));
      expect(seen).not.toBe(fresh);
      expect(withoutEarlierThink(seen, /^<think>\n\n<\/think>\n\n/)).toBe(fresh);
    }
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    expectOneSequence(p);
  });

  it('thinking on: one sequence; think blocks stay as sampled, also after a verifier answer (a new query, where the fresh render drops them)', async () => {
    const tokenizer = tok.qwen3;
    const think = '<think>\nLet me see.\n</think>\n\n';
    const p = await play(new TurnCodec({ tokenizer, enableThinking: true }), { prefix: think });
    expect(p.prompts[0]).toEqual(freshRender(tokenizer, p, 0, true));
    expect(p.prompts[1]).toEqual(freshRender(tokenizer, p, 1, true));
    const seen = tokenizer.decode(p.prompts[2]);
    expect(seen.split(think)).toHaveLength(3);
    expect(withoutEarlierThink(seen, /^<think>\nLet me see\.\n<\/think>\n\n/)).toBe(tokenizer.decode(freshRender(tokenizer, p, 2, true)));
    expect(p.transcript.stats).toEqual(stats({ turns: 3, continued: 2 }));
    expectPrefixPlusDelta(tokenizer, p);
    expectOneSequence(p);
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
    expect(turnText(tokenizer, { ids: [...ids, tokenizer.tokenId('<|im_end|>')], finishReason: 'length' }, new Set(codec.stopIds))).toBe(
      'hi<|im_start|>user<tool_call><|im_end|>',
    );
  });

  it('matches each conversation to the episode it continues, even for identical concurrent episodes, and sums their stats', async () => {
    const tokenizer = tok['qwen2.5'];
    const book = new TranscriptBook(new TurnCodec({ tokenizer }));
    const tools: ToolSpec[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const start: ChatMessage[] = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'Weather?' },
    ];
    const a = book.prompt(start, tools);
    const b = book.prompt(start, tools);
    expect(b.transcript).not.toBe(a.transcript);
    expect(b.promptIds).toEqual(a.promptIds);
    const textA = a.transcript.record(scriptedTurn(tokenizer, a.promptIds));
    const textB = b.transcript.record(scriptedTurn(tokenizer, b.promptIds, { prefix: 'B ' }));
    const next = (text: string) =>
      [...start, { role: 'assistant', content: text }, { role: 'tool', name: 'get_weather', content: '{"t": 20}' }] as ChatMessage[];
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
