// The loop keeps each assistant message's raw text (what the model produced, token for token,
// which the trainer needs). For APIs that want OpenAI-style structure, this converts assistant
// messages into {content: answer, tool_calls: [...]}. The model's own prompts never use it: the
// model-turn codec (src/agent/) renders raw history, so a model sees its turns as it sampled them.
import { parseTurn } from './parse';
import type { ChatMessage } from './types';

export function toStructuredMessages(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    if (m.role !== 'assistant') return { ...m };
    const p = parseTurn(m.content);
    if (!p.toolCalls.length) return { ...m };
    return {
      role: 'assistant',
      content: p.answer,
      tool_calls: p.toolCalls.map((c) => ({ type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  });
}
