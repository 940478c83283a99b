// What an imported benchmark scenario carries beyond our own labels: enough of the original
// record to score the episode by the benchmark's own rule (BFCL's AST check, ASB's attack and
// task success, AgentDojo's utility and security checks), and the outcome each rule produces.
import type { JsonValue } from '../types';

export type BenchmarkKind = 'bfcl' | 'asb' | 'agentdojo' | 'agent-safetybench';
export const BENCHMARK_KINDS: readonly BenchmarkKind[] = ['bfcl', 'asb', 'agentdojo', 'agent-safetybench'];

// ---- BFCL ----
export type BfclLanguage = 'python' | 'java' | 'javascript';
export const BFCL_CATEGORIES = [
  'simple_python',
  'simple_java',
  'simple_javascript',
  'multiple',
  'parallel',
  'parallel_multiple',
  'irrelevance',
  'live_simple',
  'live_multiple',
  'live_parallel',
  'live_parallel_multiple',
  'live_irrelevance',
  'live_relevance',
] as const;
export type BfclCategory = (typeof BFCL_CATEGORIES)[number];

/** A BFCL parameter description as released (types are BFCL's own names: dict, float, tuple, any, HashMap...). */
export interface BfclParam {
  type: string;
  description?: string;
  items?: BfclParam;
  properties?: Record<string, BfclParam>;
  required?: string[];
  enum?: JsonValue[];
  default?: JsonValue;
}
export interface BfclFunction {
  name: string;
  description?: string;
  parameters: { type: string; properties: Record<string, BfclParam>; required?: string[] };
}
/** One expected call: {function name: {parameter: [allowed values...]}}. */
export type BfclAnswer = Record<string, Record<string, JsonValue[]>>;

export interface BfclSpec {
  kind: 'bfcl';
  id: string;
  category: BfclCategory;
  language: BfclLanguage;
  functions: BfclFunction[];
  /** Tool name offered to the model → BFCL's function name (dots are not valid in tool names). */
  toolNames: Record<string, string>;
  /** null for irrelevance (correct = no call). */
  groundTruth: BfclAnswer[] | null;
}

// ---- Agent Security Bench ----
export const ASB_SETTINGS = ['dpi', 'opi', 'clean'] as const;
export type AsbSetting = (typeof ASB_SETTINGS)[number];
export const ASB_VARIANTS = ['naive', 'escape_characters', 'context_ignoring', 'fake_completion', 'combined_attack'] as const;
export type AsbVariant = (typeof ASB_VARIANTS)[number];

export interface AsbSpec {
  kind: 'asb';
  agent: string;
  task: string;
  setting: AsbSetting;
  /** null in the clean setting (no attack). */
  variant: AsbVariant | null;
  attackerTool: string | null;
  attackGoal: string | null;
  attackType: string | null;
  aggressive: boolean | null;
  normalTools: string[];
}

// ---- AgentDojo ----
/** A condition on one field of a state item. `i*` compare case-insensitively. */
export interface DojoCond {
  field: string;
  op: 'eq' | 'ieq' | 'contains' | 'icontains' | 'lt' | 'le' | 'gt' | 'ge' | 'hasWord';
  value: JsonValue;
}
export type DojoCollection = 'transactions' | 'scheduled' | 'user';
/** Declarative utility/security checks on the post-state (and pre-state for `unchanged`) and the final answer. */
export type DojoCheck =
  | { all: DojoCheck[] }
  | { any: DojoCheck[] }
  | { exists: { in: DojoCollection; where: DojoCond[] } }
  /** The first (or last) item matching `where` exists and satisfies `then` (AgentDojo's find_element / [-1]). */
  | { first: { in: DojoCollection; where: DojoCond[]; then: DojoCond[] } }
  | { last: { in: DojoCollection; where: DojoCond[]; then: DojoCond[] } }
  | { every: { in: DojoCollection; where: DojoCond[]; then: DojoCond[] } }
  | { sum: { in: DojoCollection; where: DojoCond[]; field: string; op: 'gt' | 'ge'; value: number } }
  | { answerContains: string[] }
  | { unchanged: true }
  | { always: boolean };

export interface AgentDojoSpec {
  kind: 'agentdojo';
  suite: 'banking';
  userTask: string;
  /** null for the no-attack run (utility without attack). */
  injectionTask: string | null;
  attack: 'important_instructions' | null;
  /** The injection vectors the attack filled (those the user task's ground truth reads). */
  vectors: string[];
  utility: DojoCheck;
  security: DojoCheck | null;
  /** Notes on where the port differs from the Python check (shown in reports). */
  portNote?: string;
}

// ---- Agent-SafetyBench ----
export interface SafetyBenchSpec {
  kind: 'agent-safetybench';
  id: number;
  risks: string[];
  failureModes: string;
  /** 1: the task can be done safely; 0: it should not be done as asked. */
  fulfillable: 0 | 1;
  environments: string[];
}

export type BenchmarkSpec = BfclSpec | AsbSpec | AgentDojoSpec | SafetyBenchSpec;

// ---- outcomes ----
export interface BfclOutcome {
  kind: 'bfcl';
  category: BfclCategory;
  correct: boolean;
  error: string | null;
  errorType: string | null;
}
export interface AsbOutcome {
  kind: 'asb';
  agent: string;
  setting: AsbSetting;
  variant: AsbVariant | null;
  aggressive: boolean | null;
  attackType: string | null;
  attackSuccess: boolean;
  originalTaskSuccess: boolean;
  refused: boolean;
}
export interface AgentDojoOutcome {
  kind: 'agentdojo';
  userTask: string;
  injectionTask: string | null;
  utility: boolean;
  security: boolean | null;
}
/**
 * Agent-SafetyBench's own label comes from its judge model (ShieldAgent), not run here: `judged`
 * is false. `approx*` are a rule-based approximation, not the benchmark's metric.
 */
export interface SafetyBenchOutcome {
  kind: 'agent-safetybench';
  id: number;
  fulfillable: 0 | 1;
  risks: string[];
  judged: false;
  refused: boolean;
  toolCalls: number;
  approxUnsafe: boolean | null;
}
export type BenchmarkOutcome = BfclOutcome | AsbOutcome | AgentDojoOutcome | SafetyBenchOutcome;
