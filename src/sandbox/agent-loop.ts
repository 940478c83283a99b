// The agent loop: system + user prompt, then up to N assistant turns. Each turn's tool calls
// run in the sandbox (<tool_response> as role 'tool'), verification requests go to the
// verifier (<tool_check_response> as role 'user'), malformed output becomes error observations.
// Usable step by step (step()) for streaming UIs, or to completion (run()).
import { matchesCheck } from './judge';
import type { CheckRecord, EndReason, EpisodeResult, ExecutedCall, MessageSource, TurnRecord } from './episode-types';
import { parseTurn } from './parse';
import type { Policy } from './policy';
import { SYSTEM_PROMPT } from './prompts';
import { isRefusal } from './refusal';
import { scoreEpisode } from './reward';
import { Sandbox, type Observation } from './sandbox';
import type { Scenario } from './scenarios/types';
import type { ChatMessage } from './types';
import { formatCheckResponse, scenarioVerifier, type Verifier } from './verifier';

export type { MessageSource, ExecutedCall, CheckRecord, TurnRecord, EndReason, EpisodeResult } from './episode-types';

export interface EpisodeOptions {
  maxTurns?: number;
  verifier?: Verifier;
  seed?: number;
  systemPrompt?: string;
  signal?: AbortSignal;
}

export class Episode {
  readonly sandbox: Sandbox;
  readonly messages: ChatMessage[] = [];
  readonly sources: MessageSource[] = [];
  readonly turns: TurnRecord[] = [];
  readonly calls: ExecutedCall[] = [];
  readonly checks: CheckRecord[] = [];
  endReason: EndReason | null = null;
  error?: string;
  private readonly maxTurns: number;
  private readonly verifier: Verifier;

  constructor(
    readonly scenario: Scenario,
    readonly policy: Policy,
    private readonly options: EpisodeOptions = {},
  ) {
    this.sandbox = new Sandbox(scenario);
    // BFCL is a single-turn benchmark: its judge reads the first turn only, so no second turn is generated.
    this.maxTurns = scenario.benchmark?.kind === 'bfcl' ? 1 : (options.maxTurns ?? 8);
    this.verifier = options.verifier ?? scenarioVerifier();
    this.push({ role: 'system', content: options.systemPrompt ?? SYSTEM_PROMPT }, 'prompt');
    this.push({ role: 'user', content: scenario.user }, 'prompt');
  }

  get done(): boolean {
    return this.endReason !== null;
  }

  private push(message: ChatMessage, source: MessageSource) {
    this.messages.push(message);
    this.sources.push(source);
  }

  /** Runs one assistant turn and its environment responses; null when the episode is over. */
  async step(): Promise<TurnRecord | null> {
    if (this.done) return null;
    if (this.options.signal?.aborted) {
      this.endReason = 'aborted';
      return null;
    }
    const index = this.turns.length;
    let text: string, finished: boolean;
    try {
      const out = await this.policy.act(
        this.messages.map((m) => ({ ...m })),
        this.sandbox.schemas(),
        { scenario: this.scenario, turn: index, seed: this.options.seed ?? 0, signal: this.options.signal },
      );
      text = typeof out === 'string' ? out : String(out?.text ?? '');
      finished = typeof out === 'string' ? true : out?.finished !== false;
    } catch (err) {
      this.endReason = 'policy_error';
      this.error = `policy ${this.policy.name} failed: ${(err as Error)?.message ?? String(err)}`;
      return null;
    }
    const parsed = parseTurn(text, finished);
    const record: TurnRecord = {
      index,
      modelText: text,
      finished,
      parsed,
      calls: [],
      checks: [],
      observations: [],
      added: [],
      refusal: isRefusal(parsed),
      final: false,
    };
    const add = (message: ChatMessage, source: MessageSource) => {
      this.push(message, source);
      record.added.push({ message, source });
    };
    add({ role: 'assistant', content: parsed.text }, 'model');

    this.sandbox.world.step = index;
    for (const call of parsed.toolCalls) {
      const obs = this.sandbox.execute(call.name, call.arguments);
      const approvedBefore = this.checks.some((c) => c.approved && c.turn < index && matchesCheck(call, c));
      const exec: ExecutedCall = {
        turn: index,
        name: call.name,
        arguments: call.arguments,
        ok: obs.ok,
        content: obs.content,
        privilege: this.sandbox.privilegeOf(call.name),
        approvedBefore,
      };
      record.calls.push(exec);
      this.calls.push(exec);
      record.observations.push(obs);
      add({ role: 'tool', name: call.name, content: obs.content }, 'environment');
    }
    for (const bad of parsed.rejected) {
      const obs: Observation = { tool: bad.tag, ok: false, content: JSON.stringify({ error: bad.error }), error: bad.error };
      record.observations.push(obs);
      add({ role: 'tool', name: bad.tag, content: obs.content }, 'environment');
    }
    const answers: string[] = [];
    for (const check of parsed.toolChecks) {
      if (!this.sandbox.tools.has(check.name)) {
        const obs: Observation = {
          tool: 'tool_check',
          ok: false,
          content: JSON.stringify({ error: `tool_check names unknown tool "${check.name}"` }),
          error: `unknown tool "${check.name}"`,
        };
        record.observations.push(obs);
        add({ role: 'tool', name: 'tool_check', content: obs.content }, 'environment');
        continue;
      }
      const ans = await this.verifier.answer({ name: check.name, arguments: check.arguments, reason: check.reason, turn: index }, this.scenario);
      const rec: CheckRecord = {
        turn: index,
        name: check.name,
        arguments: check.arguments,
        reason: check.reason,
        approved: ans.approved,
        message: ans.message,
      };
      record.checks.push(rec);
      this.checks.push(rec);
      answers.push(formatCheckResponse(check.name, ans));
    }
    if (answers.length) add({ role: 'user', content: answers.join('\n') }, 'environment');

    const acted = parsed.toolCalls.length + parsed.toolChecks.length + parsed.rejected.length > 0;
    record.final = !acted;
    this.turns.push(record);
    if (!acted) this.endReason = 'final_answer';
    else if (this.turns.length >= this.maxTurns) this.endReason = 'max_turns';
    return record;
  }

  /** Streams turns as they happen: `for await (const turn of episode.steps()) render(turn)`. */
  async *steps(): AsyncGenerator<TurnRecord> {
    for (let t = await this.step(); t; t = await this.step()) yield t;
  }

  async run(): Promise<EpisodeResult> {
    while (!this.done) await this.step();
    return this.result();
  }

  result(): EpisodeResult {
    const base = {
      scenarioId: this.scenario.id,
      cell: this.scenario.cell,
      policy: this.policy.name,
      verifier: this.verifier.name,
      turns: this.turns,
      messages: this.messages,
      sources: this.sources,
      calls: this.calls,
      checks: this.checks,
      preState: this.sandbox.preState,
      postState: this.sandbox.world.snapshot(),
      changes: [...this.sandbox.world.changes],
      endReason: this.endReason ?? 'aborted',
      error: this.error,
    };
    return { ...base, score: scoreEpisode(this.scenario, base) };
  }
}

export async function runEpisode(scenario: Scenario, policy: Policy, options: EpisodeOptions = {}): Promise<EpisodeResult> {
  return new Episode(scenario, policy, options).run();
}
