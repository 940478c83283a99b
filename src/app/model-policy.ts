// The sandbox Policy backed by the model in the engine worker: the conversation and the tool
// schemas go to the worker, which turns them into prompt ids with the model-turn codec
// (src/agent/: the same tokens as the CLI eval and GRPO, the episode's earlier turns kept as
// sampled) and returns the turn's raw text. No GPU code here. The episode's AbortSignal cancels
// the running generation.
import type { Policy } from '../sandbox/index';
import type { ChatMessage as TemplateMessage, ToolSpec } from '../hf-io/chat-template';
import type { SamplingOptions } from '../engine/generate';
import type { EngineClient } from './engine-client';

export interface ModelPolicyOptions {
  maxNewTokens: number;
  sampling: SamplingOptions;
  enableThinking?: boolean;
  name?: string;
  /** A stored checkpoint whose LoRA adapter the worker applies to this policy's turns only. */
  adapter?: { checkpointId: string };
  /** Called with the text generated so far in this turn, for streaming display. */
  onText?: (textSoFar: string, turn: number) => void;
}

type Generator = Pick<EngineClient, 'generate'>;

export function modelPolicy(engine: Generator, options: ModelPolicyOptions): Policy {
  if (!(Number.isInteger(options.maxNewTokens) && options.maxNewTokens > 0))
    throw new Error(`model policy: maxNewTokens must be a positive integer, got ${options.maxNewTokens}`);
  return {
    name: options.name ?? 'model',
    async act(conversation, tools, ctx) {
      let soFar = '';
      // Per-turn seed: the same scenario and seed replay the same episode.
      const sampling = options.sampling.greedy ? options.sampling : { ...options.sampling, seed: (options.sampling.seed ?? 0) + ctx.seed * 1000 + ctx.turn };
      const running = engine.generate(
        {
          conversations: [{ messages: conversation as TemplateMessage[], tools: tools as unknown as ToolSpec[] }],
          maxNewTokens: options.maxNewTokens,
          sampling,
          enableThinking: options.enableThinking,
          ...(options.adapter ? { adapter: { checkpointId: options.adapter.checkpointId } } : {}),
        },
        (event) => {
          if (event.kind === 'token') {
            soFar += event.text;
            options.onText?.(soFar, ctx.turn);
          }
        },
      );
      const abort = () => running.cancel();
      ctx.signal?.addEventListener('abort', abort, { once: true });
      try {
        const result = await running.result;
        const seq = result.sequences[0];
        if (!seq) throw new Error('the engine returned no sequence');
        return { text: seq.text, finished: seq.finishReason !== 'length', meta: { tokensPerSecond: result.tokensPerSecond, promptTokens: seq.promptTokens } };
      } finally {
        ctx.signal?.removeEventListener('abort', abort);
      }
    },
  };
}
