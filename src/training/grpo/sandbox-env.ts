// The agent-safety environment for GRPO: each rollout is a multi-turn sandbox episode
// (src/sandbox) played by the current policy. All episodes of a step run in lockstep, so every
// model turn of every live episode is generated in ONE batched engine call. Prompts and turn text
// come from the model-turn codec (src/agent/), exactly as in the CLI eval and the app; each episode
// keeps a token-in, token-out transcript (prompt, sampled ids, delta for the tool and verifier
// answers, ...), which becomes the rollout's training sequence with only the sampled ids trained.
import type { QwenTokenizer, ToolSpec } from '../../hf-io/tokenizer';
import { TurnCodec } from '../../agent/codec';
import { addTranscriptStats, emptyTranscriptStats, Transcript, type TranscriptStats } from '../../agent/transcript';
import {
  buildReport,
  Episode,
  simulatedVerifier,
  scenarioVerifier,
  summarizeEpisode,
  type ChatMessage,
  type Policy,
  type PolicyContext,
  type Scenario,
  type ToolSchema,
  type Verifier,
  type Cell,
} from '../../sandbox/index';
import type { GeneratedSequence } from '../../engine/generate';
import type { PolicyGenerate, Rollout, RolloutEnvironment } from './trainer';

export interface SandboxEnvOptions {
  scenarios: Scenario[];
  tokenizer: QwenTokenizer;
  maxNewTokens: number;
  maxTurns?: number;
  /** Relative weight of each cell when sampling prompts; default uniform over cells present. */
  cellMix?: Partial<Record<Cell, number>>;
  /** 'scenario' approves what the scenario's owner would; a number is the paper's simulated yes-probability. */
  verifier?: 'scenario' | number;
  /** Prompts longer than this many tokens end the episode (reported), instead of overflowing. */
  maxPromptTokens: number;
  /** The model's own EOS ids (config.json), stop ids besides the tokenizer's. */
  modelEosIds?: readonly number[];
  /** Qwen3: thinking on. Default: the codec's (off). */
  enableThinking?: boolean;
}

/** Collects act() calls of all live episodes and answers them with one batched generate. */
class LockstepBatcher {
  private pending: { promptIds: number[]; resolve: (out: GeneratedSequence | null) => void }[] = [];
  live = 0;

  constructor(
    private readonly generate: PolicyGenerate,
    private readonly maxNewTokens: number,
    private readonly maxPromptTokens: number,
    private readonly stopIds: readonly number[],
  ) {}

  request(promptIds: number[]): Promise<GeneratedSequence | null> {
    return new Promise((resolve) => {
      this.pending.push({ promptIds, resolve });
      this.maybeFlush();
    });
  }

  finished() {
    this.live--;
    this.maybeFlush();
  }

  private maybeFlush() {
    if (this.pending.length === 0 || this.pending.length < this.live) return;
    const batch = this.pending;
    this.pending = [];
    const fits = batch.filter((p) => p.promptIds.length + 1 <= this.maxPromptTokens);
    for (const p of batch) if (!fits.includes(p)) p.resolve(null);
    if (fits.length === 0) return;
    this.generate(fits.map((p) => ({ promptIds: p.promptIds, maxNewTokens: this.maxNewTokens, stopIds: this.stopIds }))).then(
      (out) => fits.forEach((p, i) => p.resolve(out[i])),
      (err) => fits.forEach((p) => p.resolve(Promise.reject(err) as never)),
    );
  }
}

export class SandboxEnvironment implements RolloutEnvironment {
  private readonly cells: { cell: Cell; weight: number; scenarios: Scenario[] }[];
  readonly codec: TurnCodec;
  /** Token bookkeeping of the last collect(): continued turns, fallbacks, tokens. */
  lastTranscripts: TranscriptStats = emptyTranscriptStats();

  constructor(private readonly options: SandboxEnvOptions) {
    const byCell = new Map<Cell, Scenario[]>();
    for (const s of options.scenarios) byCell.set(s.cell, [...(byCell.get(s.cell) ?? []), s]);
    this.cells = [...byCell]
      .map(([cell, scenarios]) => ({ cell, scenarios, weight: options.cellMix ? (options.cellMix[cell] ?? 0) : 1 }))
      .filter((c) => c.weight > 0);
    if (this.cells.length === 0) throw new Error('sandbox environment: no scenarios in the chosen cell mix');
    this.codec = new TurnCodec({ tokenizer: options.tokenizer, modelEosIds: options.modelEosIds, enableThinking: options.enableThinking });
  }

  private pick(seed: number, count: number): Scenario[] {
    let state = (seed * 2654435761) >>> 0 || 1;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 4294967296;
    };
    const total = this.cells.reduce((a, c) => a + c.weight, 0);
    return Array.from({ length: count }, () => {
      let u = next() * total;
      const cell = this.cells.find((c) => (u -= c.weight) < 0) ?? this.cells[this.cells.length - 1];
      return cell.scenarios[Math.floor(next() * cell.scenarios.length)];
    });
  }

  async collect({ prompts, groupSize, seed, generate, signal }: Parameters<RolloutEnvironment['collect']>[0]): Promise<Rollout[]> {
    const { maxNewTokens, maxPromptTokens } = this.options;
    const codec = this.codec;
    const batcher = new LockstepBatcher(generate, maxNewTokens, maxPromptTokens, codec.stopIds);
    const scenarios = this.pick(seed, prompts);
    const transcripts = new Map<number, Transcript>();
    const policy = (episode: number): Policy => ({
      name: 'model',
      async act(conversation: ChatMessage[], tools: ToolSchema[], _ctx: PolicyContext) {
        let transcript = transcripts.get(episode);
        if (!transcript) transcripts.set(episode, (transcript = new Transcript(codec, tools as unknown as ToolSpec[])));
        const { promptIds } = transcript.next(conversation);
        const out = await batcher.request(promptIds);
        if (out === null) {
          transcript.abandon();
          throw new Error(`the conversation reached ${promptIds.length} tokens, over the ${maxPromptTokens}-token training context`);
        }
        return { text: transcript.record(out), finished: out.finishReason !== 'length' };
      },
    });
    const verifier = (i: number): Verifier =>
      this.options.verifier === undefined || this.options.verifier === 'scenario'
        ? scenarioVerifier()
        : simulatedVerifier(this.options.verifier, seed * 1000 + i);
    const jobs = scenarios.flatMap((scenario, g) => Array.from({ length: groupSize }, (_, k) => ({ scenario, group: g, index: g * groupSize + k })));
    batcher.live = jobs.length;
    const results = await Promise.all(
      jobs.map(async (job) => {
        try {
          return await new Episode(job.scenario, policy(job.index), {
            maxTurns: this.options.maxTurns ?? 4,
            verifier: verifier(job.index),
            seed: seed * 1000 + job.index,
            signal,
          }).run();
        } finally {
          batcher.finished();
        }
      }),
    );
    this.lastTranscripts = emptyTranscriptStats();
    for (const t of transcripts.values()) addTranscriptStats(this.lastTranscripts, t.stats);
    return results.map((r, i) => ({
      group: jobs[i].group,
      sequences: transcripts.get(jobs[i].index)?.sequences() ?? [],
      reward: r.score.reward.total,
      info: { summary: summarizeEpisode(jobs[i].scenario, r), endReason: r.endReason },
    }));
  }

  metrics(rollouts: Rollout[]): Record<string, number> {
    const report = buildReport(rollouts.map((r) => r.info!.summary as ReturnType<typeof summarizeEpisode>));
    const t = this.lastTranscripts;
    const out: Record<string, number> = {
      // Later turns whose prompt did not continue the episode's sequence (template rewrote history
      // or the sampled ids were not the tokenizer's encoding): each starts another training sequence.
      transcript_fallbacks: t.fallbacks.rewritten,
      // Per episode: its unique tokens (what one training sequence holds) and the prompt tokens of
      // all its turns (what prefilling each turn from scratch processes).
      episode_tokens_unique: rollouts.reduce((n, r) => n + r.sequences.reduce((m, q) => m + q.ids.length, 0), 0) / Math.max(1, rollouts.length),
      episode_prompt_tokens: t.promptTokens / Math.max(1, rollouts.length),
      refusal_rate_malicious: report.overall.refusal_rate_malicious,
      verification_rate_sensitive: report.overall.verification_rate_sensitive,
      attack_success_rate: report.overall.attack_success_rate,
      benign_task_completion: report.overall.benign_task_completion,
      format_validity: report.overall.format_validity,
    };
    for (const [cell, rates] of Object.entries(report.by_cell)) {
      out[`${cell}.refusal_rate`] = rates.refusal_rate_malicious;
      out[`${cell}.verification_rate`] = rates.verification_rate_sensitive;
      out[`${cell}.attack_success_rate`] = rates.attack_success_rate;
      out[`${cell}.completion_rate`] = rates.benign_task_completion;
      out[`${cell}.reward`] = rates.mean_reward;
    }
    return out;
  }
}
