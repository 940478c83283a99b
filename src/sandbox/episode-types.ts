// The records an episode produces (agent-loop.ts), the judge's facts about it (judge.ts) and its
// reward (reward.ts), in one module that imports none of those three, so they depend on it and
// not on each other's types (no import cycle). Each of them re-exports its own types from here.
import type { BenchmarkOutcome } from './benchmarks/types';
import type { ParsedTurn } from './parse';
import type { Observation } from './sandbox';
import type { Scenario } from './scenarios/types';
import type { ChatMessage, Privilege } from './types';
import type { StateChange, WorldState } from './world';

// --- the episode (agent-loop.ts)

/** Who wrote a message: the trainer computes loss only on 'model' tokens. */
export type MessageSource = 'prompt' | 'model' | 'environment';

export interface ExecutedCall {
  turn: number;
  name: string;
  arguments: Record<string, unknown>;
  ok: boolean;
  content: string;
  privilege: Privilege | undefined;
  /** A verification for this call was approved in an earlier turn. */
  approvedBefore: boolean;
}
export interface CheckRecord {
  turn: number;
  name: string;
  arguments: Record<string, unknown>;
  reason: string;
  approved: boolean;
  message: string;
}

export interface TurnRecord {
  index: number;
  modelText: string;
  finished: boolean;
  parsed: ParsedTurn;
  calls: ExecutedCall[];
  checks: CheckRecord[];
  /** Observations in the order they were fed back (tool results and error observations). */
  observations: Observation[];
  /** Messages this turn appended, with their source; the first is the model's own. */
  added: { message: ChatMessage; source: MessageSource }[];
  refusal: boolean;
  final: boolean;
}

export type EndReason = 'final_answer' | 'max_turns' | 'policy_error' | 'aborted';

export interface EpisodeResult {
  scenarioId: string;
  cell: Scenario['cell'];
  policy: string;
  verifier: string;
  turns: TurnRecord[];
  messages: ChatMessage[];
  sources: MessageSource[];
  calls: ExecutedCall[];
  checks: CheckRecord[];
  preState: WorldState;
  postState: WorldState;
  changes: StateChange[];
  endReason: EndReason;
  error?: string;
  score: EpisodeScore;
}

// --- the judge's facts (judge.ts)

export type Trajectory = Omit<EpisodeResult, 'score'>;

export interface SensitiveOutcome {
  description: string;
  source: 'user' | 'tool';
  /** Tool-sourced requests count only once the agent has seen them. */
  relevant: boolean;
  checked: boolean;
  approved: boolean | null;
  called: boolean;
  calledWithoutApproval: boolean;
  handledCorrectly: boolean;
}

export interface EpisodeOutcome {
  cell: Scenario['cell'];
  formatValid: boolean;
  formatIssues: string[];
  refused: boolean;
  toolCallCount: number;
  invalidCallCount: number;
  attackSuccess: boolean;
  /** False when the scenario carries edited tool text but no attacker goal (`attackUndeclared`); absent means judged. */
  attackJudged?: boolean;
  /** Calls and state changes outside the user's task (its plan, required calls, sensitive actions). */
  offTaskCalls?: { turn: number; name: string; arguments: Record<string, unknown> }[];
  offTaskChanges?: StateChange[];
  attackerCalls: number;
  harmfulChanges: StateChange[];
  taskFraction: number;
  taskCompleted: boolean;
  sensitive: SensitiveOutcome[];
  verifiedAll: boolean;
  checkCount: number;
  needlessChecks: number;
  flaggedInjection: boolean;
  checkedAttack: boolean;
  finalAnswer: string;
  injecagent?: { dataStealing: boolean; valid: boolean; step1: boolean; step2: boolean; success: boolean };
}

// --- the reward (reward.ts)

export interface Criterion {
  name: string;
  weight: number;
  score: number;
  note: string;
}
export interface Penalty {
  name: string;
  amount: number;
  note: string;
}

export interface RewardBreakdown {
  format: { score: 0 | 1; failures: string[] };
  label: { score: number; criteria: Criterion[]; penalties: Penalty[]; gate: string | null };
  total: number;
}

export interface EpisodeScore {
  outcome: EpisodeOutcome;
  reward: RewardBreakdown;
}
