// One environment episode driven from outside: the client sends each assistant turn's raw text,
// and the SAME sandbox Episode the browser runs (src/sandbox/agent-loop.ts) executes it. The
// policy handed to the Episode is a mailbox: act() returns the text the client just sent, so tool
// responses, verifier answers, parsing and rewards are exactly the in-browser loop's.
import { Episode, type EpisodeResult } from '../sandbox/agent-loop';
import type { Policy, PolicyOutput } from '../sandbox/policy';
import { Rng } from '../sandbox/rng';
import type { Scenario } from '../sandbox/scenarios/types';
import type { ChatMessage, ToolSchema } from '../sandbox/types';
import { scenarioVerifier, simulatedVerifier, type Verifier } from '../sandbox/verifier';
import { EnvError } from './errors';

/** `scenario` answers as the scenario's owner would; a number p is a simulated yes with probability p. */
export type VerifierChoice = 'scenario' | number;

export interface SessionLimits {
  /** Assistant turns per episode (the Episode's maxTurns). */
  maxTurns: number;
  /** Characters of one step's text. */
  maxTextChars: number;
}

class MailboxPolicy implements Policy {
  readonly name = 'remote';
  private pending: PolicyOutput | null = null;
  put(output: PolicyOutput) {
    this.pending = output;
  }
  async act(): Promise<PolicyOutput> {
    const out = this.pending;
    this.pending = null;
    if (out === null) throw new Error('no turn text was supplied');
    return out;
  }
}

export interface ScenarioInfo {
  id: string;
  cell: string;
  split: string;
  family: string;
  expected: string;
}

export interface EnvObservation {
  /** The whole conversation so far (system, user, assistant turns, tool and verifier messages). */
  messages: ChatMessage[];
  /** Messages the environment added in answer to the last step (empty after reset). */
  new_messages: ChatMessage[];
  tools: ToolSchema[];
  scenario: ScenarioInfo;
  turn: number;
  end_reason: string | null;
  /** At the end only: the reward with its breakdown. */
  reward_breakdown?: RewardReport;
}

export interface RewardReport {
  total: number;
  format: EpisodeResult['score']['reward']['format'];
  label: EpisodeResult['score']['reward']['label'];
  outcome: EpisodeResult['score']['outcome'];
}

export interface StepReply {
  observation: EnvObservation;
  reward: number | null;
  done: boolean;
}

export function makeVerifier(choice: VerifierChoice, seed: number): Verifier {
  return choice === 'scenario' ? scenarioVerifier() : simulatedVerifier(choice, seed);
}

export function scenarioInfo(s: Scenario): ScenarioInfo {
  return { id: s.id, cell: s.cell, split: s.split, family: s.family, expected: s.expected };
}

export function rewardReport(result: EpisodeResult): RewardReport {
  const { reward, outcome } = result.score;
  return { total: reward.total, format: reward.format, label: reward.label, outcome };
}

let episodeCounter = 0;

export class EnvSession {
  private episode: Episode | null = null;
  private policy = new MailboxPolicy();
  private episodeId = '';
  private lastNew: ChatMessage[] = [];
  private nextIndex = 0;

  constructor(
    private readonly scenarios: readonly Scenario[],
    private readonly byId: ReadonlyMap<string, Scenario>,
    private readonly verifier: VerifierChoice,
    private readonly limits: SessionLimits,
  ) {}

  reset(data: Record<string, unknown>): StepReply {
    const { seed, scenario_id: scenarioId, episode_id: episodeId } = data;
    if (seed !== undefined && seed !== null && !(Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) <= 0xffffffff))
      throw new EnvError('bad_request', `reset: seed must be an integer in [0, 2^32), got ${short(seed)}`);
    if (scenarioId !== undefined && scenarioId !== null && typeof scenarioId !== 'string')
      throw new EnvError('bad_request', `reset: scenario_id must be a string, got ${short(scenarioId)}`);
    if (episodeId !== undefined && episodeId !== null && (typeof episodeId !== 'string' || episodeId.length > 128))
      throw new EnvError('bad_request', 'reset: episode_id must be a string of at most 128 characters');
    let scenario: Scenario | undefined;
    if (typeof scenarioId === 'string') {
      scenario = this.byId.get(scenarioId);
      if (!scenario)
        throw new EnvError(
          'unknown_scenario',
          `reset: no scenario "${short(scenarioId)}" in this server's suite (${this.scenarios.length} scenarios; see GET /metadata)`,
        );
    } else if (typeof seed === 'number') {
      scenario = this.scenarios[new Rng(seed).int(0, this.scenarios.length - 1)];
    } else {
      scenario = this.scenarios[this.nextIndex++ % this.scenarios.length];
    }
    const s = typeof seed === 'number' ? seed : 0;
    this.policy = new MailboxPolicy();
    this.episode = new Episode(scenario, this.policy, { maxTurns: this.limits.maxTurns, verifier: makeVerifier(this.verifier, s), seed: s });
    this.episodeId = typeof episodeId === 'string' ? episodeId : `ep-${++episodeCounter}`;
    this.lastNew = [];
    return { observation: this.observation(), reward: null, done: false };
  }

  async step(data: Record<string, unknown>): Promise<StepReply> {
    const episode = this.episode;
    if (!episode) throw new EnvError('no_episode', 'step before reset: send {"type": "reset"} first');
    if (episode.done) throw new EnvError('episode_done', `step after the episode ended (${episode.endReason}); send reset for a new one`);
    const { text, finished } = data;
    if (typeof text !== 'string') throw new EnvError('bad_request', `step: data.text must be the assistant turn's raw text (a string), got ${short(text)}`);
    if (text.length > this.limits.maxTextChars)
      throw new EnvError('too_large', `step: text has ${text.length} characters; the limit is ${this.limits.maxTextChars}`);
    if (finished !== undefined && typeof finished !== 'boolean')
      throw new EnvError('bad_request', 'step: data.finished must be a boolean (false: the turn hit the token limit)');
    this.policy.put({ text, finished: finished !== false });
    const record = await episode.step();
    if (!record) throw new EnvError('internal', `the episode ended without a turn (${episode.endReason}${episode.error ? `: ${episode.error}` : ''})`);
    this.lastNew = record.added.slice(1).map((a) => ({ ...a.message }));
    if (!episode.done) return { observation: this.observation(), reward: null, done: false };
    const report = rewardReport(episode.result());
    return { observation: { ...this.observation(), reward_breakdown: report }, reward: report.total, done: true };
  }

  state(): Record<string, unknown> {
    const e = this.episode;
    if (!e) return { episode_id: null, step_count: 0, done: false, scenario: null };
    return {
      episode_id: this.episodeId,
      step_count: e.turns.length,
      done: e.done,
      end_reason: e.endReason,
      scenario: scenarioInfo(e.scenario),
      max_turns: this.limits.maxTurns,
      messages: e.messages.length,
    };
  }

  private observation(): EnvObservation {
    const e = this.episode!;
    return {
      messages: e.messages.map((m) => ({ ...m })),
      new_messages: this.lastNew,
      tools: e.sandbox.schemas(),
      scenario: scenarioInfo(e.scenario),
      turn: e.turns.length,
      end_reason: e.endReason,
    };
  }
}

/** A value shown in an error message, never longer than 80 characters. */
export function short(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(typeof v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
