// Token-in, token-out episodes. A Transcript keeps an episode as token sequences: the first prompt
// as rendered, then every turn's ids exactly as sampled (never decoded and re-encoded), then for
// each tool or verifier answer only the tokens the chat template adds for the new messages plus
// the generation prompt (the delta). Each turn's prompt is therefore the previous prompt + the
// sampled ids + the delta, which lets the engine reuse the prefix's KV and GRPO train a whole
// episode as ONE sequence that is exactly what the model saw at rollout.
//
// The delta is cut at the <|im_end|> that closes the turn in the template: the fresh render of the
// conversation is compared with a render whose first new message holds other text, and the delta
// is everything after the last <|im_end|> they share (that <|im_end|> included when the turn did
// not end on it: a turn cut by the token limit or ended by another stop id). Text after a special
// token is tokenised on its own, so encoding the delta alone gives the ids the whole render has
// there. The template's rendering of EARLIER turns is never used: where it differs from what the
// model saw (Qwen3 drops an earlier turn's think block, including the empty one of thinking-off
// prompts; sampled ids that are not the tokenizer's encoding of their text), the sampled ids win,
// because the rollout is what we train on. With Qwen2.5 and canonical ids, prefix + delta equals
// the fresh render id for id (tests/unit/agent-transcript.test.ts).
//
// It FALLS BACK (a new sequence from the fresh render, counted as 'rewritten') only where the
// conversation really differs from the episode: the assistant message is not the text of the turn
// recorded (history edited by the caller, or carrying tool_calls / reasoning_content fields the
// template would render instead). Every sampled token then still sits in exactly the context it
// was sampled in (the sequence it was appended to).
import type { ChatMessage, ToolSpec } from '../hf-io/tokenizer';
import type { GeneratedTurn, TurnCodec } from './codec';

export type FallbackReason = 'rewritten';

/** One token sequence of an episode; sampled[t] = 1 where the policy generated ids[t]. */
export interface TranscriptSequence {
  ids: number[];
  sampled: Uint8Array;
}

export interface TranscriptStats {
  /** Turns prompted. */
  turns: number;
  /** Later turns whose prompt continued the previous sequence (prefix + sampled + delta). */
  continued: number;
  /** Later turns that fell back to a fresh render, by reason. */
  fallbacks: Record<FallbackReason, number>;
  /** Prompt tokens summed over turns: what prefilling every turn from scratch processes. */
  promptTokens: number;
  /** Generated tokens. */
  sampledTokens: number;
}

export function emptyTranscriptStats(): TranscriptStats {
  return { turns: 0, continued: 0, fallbacks: { rewritten: 0 }, promptTokens: 0, sampledTokens: 0 };
}

export function addTranscriptStats(into: TranscriptStats, s: TranscriptStats): TranscriptStats {
  into.turns += s.turns;
  into.continued += s.continued;
  into.fallbacks.rewritten += s.fallbacks.rewritten;
  into.promptTokens += s.promptTokens;
  into.sampledTokens += s.sampledTokens;
  return into;
}

/** A message as compared between turns (key order and absent fields do not matter). */
function messageKey(m: ChatMessage): string {
  return JSON.stringify([m.role, m.content ?? null, m.name ?? null, m.tool_calls ?? null, m.tool_call_id ?? null, m.reasoning_content ?? null]);
}

/** The token that closes a message in the Qwen chat templates. */
const IM_END = '<|im_end|>';

interface Building {
  ids: number[];
  sampled: number[];
}

export class Transcript {
  readonly stats = emptyTranscriptStats();
  private readonly built: Building[] = [];
  /** Keys of the conversation rendered into the current prompt (null before the first turn). */
  private messageKeys: string[] | null = null;
  private lastTurn: { ids: readonly number[]; text: string } | null = null;
  private generating = false;
  readonly toolsKey: string;

  constructor(
    readonly codec: TurnCodec,
    readonly tools: readonly ToolSpec[],
  ) {
    this.toolsKey = JSON.stringify(tools);
  }

  /** True while a prompt was handed out and its turn is not recorded yet. */
  get awaitingTurn(): boolean {
    return this.generating;
  }

  /** The assistant text of the last recorded turn ('' before any). */
  get lastTurnText(): string {
    return this.lastTurn?.text ?? '';
  }

  /** Whether `conversation` is this transcript's conversation plus its last turn and new messages. */
  continues(conversation: readonly ChatMessage[], tools: readonly ToolSpec[]): boolean {
    return this.continuesKeys(conversation, conversation.map(messageKey), JSON.stringify(tools));
  }

  /** continues() with the conversation's message keys and tools key computed once by the caller. */
  continuesKeys(conversation: readonly ChatMessage[], keys: readonly string[], toolsKey: string): boolean {
    const own = this.messageKeys;
    if (own === null || this.generating || this.lastTurn === null) return false;
    if (toolsKey !== this.toolsKey || conversation.length <= own.length) return false;
    if (conversation[own.length].role !== 'assistant') return false;
    return own.every((k, i) => k === keys[i]);
  }

  /** Whether a conversation this transcript continues holds its last turn's text as the assistant message. */
  keepsLastTurn(conversation: readonly ChatMessage[]): boolean {
    return this.messageKeys !== null && conversation[this.messageKeys.length]?.content === this.lastTurnText;
  }

  /**
   * The prompt ids of the next turn: the first render, or the current sequence + the last turn's
   * sampled ids + the delta, or (where the conversation's history is not the turn recorded) the
   * fresh render, counted.
   */
  next(conversation: readonly ChatMessage[]): { promptIds: number[]; continued: boolean } {
    if (this.generating) throw new Error('transcript: the previous turn was not recorded yet');
    const first = this.messageKeys === null;
    if (!first && !this.continues(conversation, this.tools)) {
      throw new Error('transcript: the conversation does not continue this episode (earlier messages changed, or no assistant turn follows them)');
    }
    const text = this.codec.renderText(conversation, this.tools);
    let continued = false;
    const delta = first ? null : this.deltaText(conversation, text);
    if (delta !== null) {
      continued = true;
      const current = this.built[this.built.length - 1];
      const ids = this.codec.tokenizer.encode(delta);
      current.ids.push(...ids);
      for (let i = 0; i < ids.length; i++) current.sampled.push(0);
      this.stats.continued++;
    } else {
      if (!first) this.stats.fallbacks.rewritten++;
      const fresh = this.codec.tokenizer.encode(text);
      this.built.push({ ids: fresh, sampled: new Array<number>(fresh.length).fill(0) });
    }
    const promptIds = [...this.built[this.built.length - 1].ids];
    this.messageKeys = conversation.map(messageKey);
    this.generating = true;
    this.stats.turns++;
    this.stats.promptTokens += promptIds.length;
    return { promptIds, continued };
  }

  /**
   * The text the template adds after the last turn for the new messages and the generation prompt
   * (`rendered`: the conversation's fresh render), or null when the conversation's assistant
   * message is not the turn recorded.
   */
  private deltaText(conversation: readonly ChatMessage[], rendered: string): string | null {
    const k = this.messageKeys!.length;
    const turn = conversation[k];
    if (turn.content !== this.lastTurn!.text || (turn.tool_calls?.length ?? 0) > 0 || turn.reasoning_content) return null;
    // The same conversation with other text in the first new message (or a tool message added
    // when there is none): the two renders agree up to that text, which comes after the turn's
    // closing <|im_end|> and before any later one.
    const next = conversation[k + 1];
    const other = (s: unknown) => (typeof s === 'string' && s.startsWith('\u0000') ? '\u0001' : '\u0000');
    const probe = next
      ? [...conversation.slice(0, k + 1), { ...next, content: other(next.content) }, ...conversation.slice(k + 2)]
      : [...conversation, { role: 'tool', content: '\u0000' } as ChatMessage];
    const contrast = this.codec.renderText(probe, this.tools);
    let common = 0;
    while (common < rendered.length && common < contrast.length && rendered[common] === contrast[common]) common++;
    const close = common >= IM_END.length ? rendered.lastIndexOf(IM_END, common - IM_END.length) : -1;
    if (close < 0) return null;
    const endedOnClose = this.lastTurn!.ids.at(-1) === this.codec.tokenizer.tokenId(IM_END);
    return rendered.slice(endedOnClose ? close + IM_END.length : close);
  }

  /** Records the turn generated for the last prompt (its ids exactly as sampled); returns its text. */
  record(out: GeneratedTurn): string {
    if (!this.generating) throw new Error('transcript: no prompt is waiting for a turn');
    const current = this.built[this.built.length - 1];
    current.ids.push(...out.ids);
    for (let i = 0; i < out.ids.length; i++) current.sampled.push(1);
    this.generating = false;
    this.stats.sampledTokens += out.ids.length;
    const text = this.codec.turnText(out);
    this.lastTurn = { ids: [...out.ids], text };
    return text;
  }

  /** Forgets a prompt whose turn never came (generation failed or was cancelled). */
  abandon(): void {
    if (!this.generating) return;
    this.generating = false;
    // The prompt's delta stays in the sequence: nothing after it will be sampled in it, and a
    // trailing un-sampled stretch trains nothing. The next turn cannot continue without a turn.
    this.lastTurn = null;
  }

  /** The episode's sequences (normally one), for training. */
  sequences(): TranscriptSequence[] {
    return this.built.map((s) => ({ ids: [...s.ids], sampled: Uint8Array.from(s.sampled) }));
  }
}

/**
 * Live transcripts of many episodes, for policies that only see conversations (the engine
 * worker, the CLI's model policy): a conversation is matched to the transcript it continues, or
 * starts a new one. Matching prefers the transcript whose last turn is the conversation's
 * assistant message, then the most recent. A conversation that keeps its episode's last turn
 * continues with that episode's sampled ids; one that does not gets the fresh render (a
 * fallback, or a new transcript), so the choice changes a prompt's ids only where two live
 * episodes wrote the same text with different ids. Old transcripts are forgotten past `capacity`.
 */
export class TranscriptBook {
  private live: Transcript[] = [];
  private readonly finished = emptyTranscriptStats();

  constructor(
    readonly codec: TurnCodec,
    readonly capacity = 256,
  ) {}

  /** Every turn's bookkeeping so far, including forgotten transcripts. */
  get stats(): TranscriptStats {
    const total = addTranscriptStats(emptyTranscriptStats(), this.finished);
    for (const t of this.live) addTranscriptStats(total, t.stats);
    return total;
  }

  prompt(conversation: readonly ChatMessage[], tools: readonly ToolSpec[]): { transcript: Transcript; promptIds: number[]; continued: boolean } {
    const keys = conversation.map(messageKey);
    const toolsKey = JSON.stringify(tools);
    const candidates = this.live.filter((t) => t.continuesKeys(conversation, keys, toolsKey));
    const exact = candidates.filter((t) => t.keepsLastTurn(conversation));
    const pick = (exact.length > 0 ? exact : candidates).at(-1);
    const transcript = pick ?? new Transcript(this.codec, tools);
    this.live = this.live.filter((t) => t !== transcript);
    this.live.push(transcript);
    while (this.live.length > this.capacity) addTranscriptStats(this.finished, this.live.shift()!.stats);
    return { transcript, ...transcript.next(conversation) };
  }
}
