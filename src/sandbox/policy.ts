// The policy interface: anything that writes one assistant turn given the conversation.
// The model policy (src/agent/model-policy.ts) renders with the model's chat template; scripted
// policies read the scenario's labels instead.
import type { Scenario } from './scenarios/types';
import type { ChatMessage, ToolSchema } from './types';

export interface PolicyContext {
  scenario: Scenario;
  turn: number;
  seed: number;
  signal?: AbortSignal;
}

/** Raw model text for one assistant turn; `finished: false` means it hit the token limit. */
export type PolicyOutput = string | { text: string; finished?: boolean; meta?: Record<string, unknown> };

export interface Policy {
  name: string;
  act(conversation: ChatMessage[], tools: ToolSchema[], ctx: PolicyContext): Promise<PolicyOutput>;
}
