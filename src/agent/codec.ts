// The model-turn codec: the ONE way a conversation with tools becomes model tokens and a generated
// turn becomes text again. The CLI eval, the engine worker (Attack Lab, Evaluate, Demo) and GRPO
// all go through it, so a policy sees the same tokens in training, evaluation and the app.
//
// Decisions, made once here:
// - Prompts are the model's own chat template (tool schemas included) with the generation prompt.
// - Qwen3 thinking is OFF unless asked for (DEFAULT_ENABLE_THINKING): the agent answers in the
//   paper's tag format within a small token budget. Qwen2.5's template ignores the switch.
// - Assistant history is the turn's raw text as generated: special tokens kept, the stop token that
//   ended the turn dropped (the template closes the turn itself). So <tool_call>, <think> and a
//   stray <|im_start|> reach the parser, which must mark the last one as a bad format.
// - Stop ids are the tokenizer's end tokens plus the model's own EOS ids.
// Multi-turn token bookkeeping (prefix + sampled ids + delta) lives in transcript.ts.
import type { ChatMessage, QwenTokenizer, ToolSpec } from '../hf-io/tokenizer';

export const DEFAULT_ENABLE_THINKING = false;

/** What the codec needs of a generated sequence. */
export interface GeneratedTurn {
  ids: readonly number[];
  /** 'eos' when a stop id ended the turn (it is then the last id); anything else keeps every id. */
  finishReason: string;
}

export interface TurnCodecOptions {
  tokenizer: QwenTokenizer;
  /** The model's end-of-sequence ids (config.json), on top of the tokenizer's <|im_end|> and <|endoftext|>. */
  modelEosIds?: readonly number[];
  /** Qwen3: render prompts with thinking on. Default DEFAULT_ENABLE_THINKING (off). */
  enableThinking?: boolean;
}

/**
 * The raw text of a generated turn: the stop token that ended it is dropped (the sandbox's
 * end-of-turn is implicit), everything else is decoded with special tokens kept.
 */
export function turnText(tokenizer: QwenTokenizer, out: GeneratedTurn, stopIds: ReadonlySet<number>): string {
  const ids = out.finishReason === 'eos' && stopIds.has(out.ids[out.ids.length - 1]) ? out.ids.slice(0, -1) : out.ids;
  return tokenizer.decode(ids, { skipSpecialTokens: false });
}

export class TurnCodec {
  readonly tokenizer: QwenTokenizer;
  readonly stopIds: readonly number[];
  readonly enableThinking: boolean;
  private readonly stopSet: ReadonlySet<number>;

  constructor(options: TurnCodecOptions) {
    this.tokenizer = options.tokenizer;
    this.stopIds = [...new Set([...(options.modelEosIds ?? []), ...options.tokenizer.eosTokenIds])];
    this.stopSet = new Set(this.stopIds);
    this.enableThinking = options.enableThinking ?? DEFAULT_ENABLE_THINKING;
  }

  /** The prompt text of a conversation: the chat template with tools and the generation prompt. */
  renderText(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): string {
    return this.tokenizer.applyChatTemplate(messages, { tools, addGenerationPrompt: true, enableThinking: this.enableThinking });
  }

  /** The prompt ids of a conversation, rendered whole. */
  render(messages: readonly ChatMessage[], tools: readonly ToolSpec[]): number[] {
    return this.tokenizer.encode(this.renderText(messages, tools));
  }

  /** The assistant message text of a generated turn (what history keeps). */
  turnText(out: GeneratedTurn): string {
    return turnText(this.tokenizer, out, this.stopSet);
  }

  isStop(id: number): boolean {
    return this.stopSet.has(id);
  }
}
