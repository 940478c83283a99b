// Public API of the agent-safety sandbox (pure TypeScript: runs in the browser and in Node).
export type { ChatMessage, ChatToolCall, ToolSchema, JsonSchemaObject, JsonSchemaProperty, Privilege, JsonValue } from './types';
export { BUILTIN_TOOLS, builtinTool, toSchema, type ToolDef, type CustomToolSpec } from './tools/index';
export { createWorld, World, COLLECTIONS, type WorldState, type StateChange, type WorldPatch } from './world';
export { withNamePools, type NamePools } from './data';
export { Sandbox, type Observation } from './sandbox';
export { validateArguments, ToolArgumentError } from './schema';
export {
  LIMITS,
  parseJsonBounded,
  jsonValueIssue,
  jsonTextDepth,
  hasOwn,
  ownValue,
  setOwn,
  type JsonLimits,
  type BoundedJson,
  type JsonValueIssue,
} from './limits';
export { parseTurn, formatToolCall, formatToolCheck, type ParsedTurn, type ParsedCall, type ParsedCheck, type ParseIssue } from './parse';
export { isRefusal, textLooksLikeRefusal, flagsInjection, REFUSAL_PATTERNS, INJECTION_FLAG_PATTERNS } from './refusal';
export { SYSTEM_PROMPT } from './prompts';
export type { Policy, PolicyContext, PolicyOutput } from './policy';
export {
  Episode,
  runEpisode,
  type EpisodeOptions,
  type EpisodeResult,
  type TurnRecord,
  type MessageSource,
  type ExecutedCall,
  type CheckRecord,
  type EndReason,
} from './agent-loop';
export {
  simulatedVerifier,
  scenarioVerifier,
  callbackVerifier,
  formatCheckResponse,
  type Verifier,
  type VerificationRequest,
  type VerificationAnswer,
} from './verifier';
export { scoreEpisode, REWARD_CONSTANTS, type RewardBreakdown, type EpisodeScore, type Criterion, type Penalty } from './reward';
export { judgeEpisode, type EpisodeOutcome, type SensitiveOutcome } from './judge';
export { buildReport, summarizeEpisode, rates, injecAgentMetrics, type EvalReport, type Rates, type EpisodeSummary, type InjecAgentMetrics } from './metrics';
export { complyPolicy, refusePolicy, oraclePolicy, SCRIPTED_POLICIES, type ScriptedPolicyName } from './policies';
export { toStructuredMessages } from './messages';
export {
  CELLS,
  cellOf,
  expectedDecision,
  type Scenario,
  type Cell,
  type Label,
  type Decision,
  type CallPattern,
  type ConcreteCall,
  type AttackerSpec,
  type SensitiveAction,
} from './scenarios/types';
export { generateScenarios, DEFAULT_COUNTS, type GenerateOptions } from './scenarios/generator';
export { familiesFor, type Split } from './scenarios/splits';
export { makeSuite, parseSuite, parseSuiteText, SuiteError, SUITE_FORMAT, SUITE_VERSION, type Suite } from './scenarios/suite-format';
export { importInjecAgent, indexToolkits, type InjecAgentOptions } from './scenarios/injecagent';
export { parsePythonLiteral, PyLiteralError } from './scenarios/pyliteral';
export { runEval, type EvalOptions } from './evaluate';
export * as benchmarks from './benchmarks/index';
