// Token-in, token-out episodes. A Transcript keeps an episode as token sequences: the first prompt
// as rendered, then every turn's ids exactly as sampled (never decoded and re-encoded), then for
// each tool or verifier answer only the tokens the chat template adds for the new messages plus
// the generation prompt (the delta). Each turn's prompt is therefore the previous prompt + the
// sampled ids + the delta, which lets the engine reuse the prefix's KV and GRPO train a whole
// episode as one sequence.
//
// Every turn checks the invariant that makes this exact: rendering the whole conversation afresh
// gives the same ids as prefix + sampled + delta. Where it does not, the transcript FALLS BACK: it
// starts a new sequence from the fresh render and counts why:
// - 'rewritten': the template renders earlier turns differently from what the model saw (Qwen3
//   drops an earlier turn's think block, including the empty one of thinking-off prompts; a turn
//   that ended on <|endoftext|> is closed with <|im_end|>; history text that is not the raw turn);
// - 'retokenized': the text is the same but the sampled ids are not how the tokenizer encodes it.
// So a prompt always equals the fresh render of its conversation, and every sampled token sits in
// exactly the context it was sampled in (the sequence it was appended to).
import type { ChatMessage, ToolSpec } from '../model/tokenizer';
import type { GeneratedTurn, TurnCodec } from './codec';

export type FallbackReason = 'rewritten' | 'retokenized';

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
  return { turns: 0, continued: 0, fallbacks: { rewritten: 0, retokenized: 0 }, promptTokens: 0, sampledTokens: 0 };
}

export function addTranscriptStats(into: TranscriptStats, s: TranscriptStats): TranscriptStats {
  into.turns += s.turns;
  into.continued += s.continued;
  into.fallbacks.rewritten += s.fallbacks.rewritten;
  into.fallbacks.retokenized += s.fallbacks.retokenized;
  into.promptTokens += s.promptTokens;
  into.sampledTokens += s.sampledTokens;
  return into;
}

/** A message as compared between turns (key order and absent fields do not matter). */
function messageKey(m: ChatMessage): string {
  return JSON.stringify([m.role, m.content ?? null, m.name ?? null, m.tool_calls ?? null, m.tool_call_id ?? null, m.reasoning_content ?? null]);
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

interface Building {
  ids: number[];
  sampled: number[];
}

export class Transcript {
  readonly stats = emptyTranscriptStats();
  private readonly built: Building[] = [];
  /** Keys of the conversation rendered into the current prompt (null before the first turn). */
  private messageKeys: string[] | null = null;
  /** Text of the current prompt and of the last turn (to tell a rewrite from a re-tokenisation). */
  private promptText = '';
  private lastTurn: { ids: readonly number[]; rawText: string; text: string } | null = null;
  private generating = false;
  readonly toolsKey: string;

  constructor(readonly codec: TurnCodec, readonly tools: readonly ToolSpec[]) {
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
   * sampled ids + the delta when the fresh render equals that, else the fresh render (counted).
   */
  next(conversation: readonly ChatMessage[]): { promptIds: number[]; continued: boolean } {
    if (this.generating) throw new Error('transcript: the previous turn was not recorded yet');
    const first = this.messageKeys === null;
    if (!first && !this.continues(conversation, this.tools)) {
      throw new Error('transcript: the conversation does not continue this episode (earlier messages changed, or no assistant turn follows them)');
    }
    const text = this.codec.renderText(conversation, this.tools);
    const fresh = this.codec.tokenizer.encode(text);
    let continued = false;
    if (first) {
      this.built.push({ ids: fresh, sampled: new Array<number>(fresh.length).fill(0) });
    } else {
      const current = this.built[this.built.length - 1];
      if (startsWith(fresh, current.ids)) {
        continued = true;
        const delta = fresh.slice(current.ids.length);
        current.ids.push(...delta);
        for (let i = 0; i < delta.length; i++) current.sampled.push(0);
        this.stats.continued++;
      } else {
        const reason: FallbackReason = text.startsWith(this.promptText + this.lastTurn!.rawText) ? 'retokenized' : 'rewritten';
        this.stats.fallbacks[reason]++;
        this.built.push({ ids: fresh, sampled: new Array<number>(fresh.length).fill(0) });
      }
    }
    this.messageKeys = conversation.map(messageKey);
    this.promptText = text;
    this.generating = true;
    this.stats.turns++;
    this.stats.promptTokens += fresh.length;
    return { promptIds: [...this.built[this.built.length - 1].ids], continued };
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
    this.lastTurn = { ids: [...out.ids], rawText: this.codec.tokenizer.decode(out.ids, { skipSpecialTokens: false }), text };
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
 * assistant message, then the most recent; the ids of a prompt never depend on the choice (a
 * prompt always equals the fresh render), only whether its sequence continues. Old transcripts are
 * forgotten past `capacity`.
 */
export class TranscriptBook {
  private live: Transcript[] = [];
  private readonly finished = emptyTranscriptStats();

  constructor(readonly codec: TurnCodec, readonly capacity = 256) {}

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
