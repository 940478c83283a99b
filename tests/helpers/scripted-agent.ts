// A scripted agent for token-level tests: it reads the prompt it is given and writes a fixed
// three-turn episode (call the first tool the prompt lists, then ask to verify that call, then
// answer), returned as generated ids ending in <|im_end|>, the way the engine returns a turn.
import type { GeneratedSequence } from '../../src/engine/generate';
import type { QwenTokenizer } from '../../src/hf-io/tokenizer';
import { formatToolCheck } from '../../src/sandbox/parse';

export interface ScriptedTurnOptions {
  /** Text put before every turn (e.g. a Qwen3 think block). */
  prefix?: string;
  /** Encode the turn one character at a time: valid text, but not the tokenizer's encoding. */
  nonCanonical?: boolean;
  /** End the turn with this id instead of <|im_end|>; null: no stop token (finish 'length'). */
  stopId?: number | null;
}

/** The text of turn `turn` for a prompt that lists `tool`. */
export function scriptedText(turn: number, tool: string): string {
  if (turn === 0) return `<tool_call>\n{"name": "${tool}", "arguments": {}}\n</tool_call>`;
  if (turn === 1) return formatToolCheck(tool, {}, 'This acts on your data.');
  return 'Done: I asked you before acting.';
}

export function scriptedTurn(tokenizer: QwenTokenizer, promptIds: readonly number[], options: ScriptedTurnOptions = {}): GeneratedSequence {
  const prompt = tokenizer.decode(promptIds);
  const turn = prompt.split('<|im_start|>assistant').length - 2;
  const tool = /"name": "([A-Za-z_]+)"/.exec(prompt)?.[1] ?? 'none';
  const text = (options.prefix ?? '') + scriptedText(turn, tool);
  const body = options.nonCanonical ? [...text].flatMap((ch) => tokenizer.encode(ch)) : tokenizer.encode(text);
  const stop = options.stopId === undefined ? tokenizer.tokenId('<|im_end|>') : options.stopId;
  const ids = stop === null ? body : [...body, stop];
  return { ids, logprobs: ids.map(() => -1), samplingLogprobs: ids.map(() => 0), finishReason: stop === null ? 'length' : 'eos' };
}
