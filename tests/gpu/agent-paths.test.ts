// One scripted sandbox episode (tool call → tool response, verification request → verifier
// answer, final answer) played through the three paths that turn conversations into model tokens:
// the CLI eval's model policy, the app's model policy through the engine worker's logic
// (EngineHost.generate with conversations), and GRPO's sandbox environment. The generator is
// scripted (same reply for the same prompt), so any difference in prompt ids, stop ids or turn
// text is a difference in rendering. Each path must send identical ids, every later prompt must
// be the previous prompt + the sampled ids + the delta, and GRPO's training sequence must be the
// whole episode with exactly the sampled ids marked. The engine (tiny model, real tokenizer) is
// loaded but never stepped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelPolicy } from '../../src/agent/model-policy';
import { modelPolicy as appModelPolicy } from '../../src/app/model-policy';
import type { GeneratedSequence, GenerationRequest } from '../../src/engine/generate';
import { generateScenarios, runEpisode, type EpisodeResult, type Scenario } from '../../src/sandbox/index';
import { SandboxEnvironment } from '../../src/training/grpo/sandbox-env';
import { EngineHost } from '../../src/worker-api/engine-host';
import { scriptedTurn } from '../helpers/scripted-agent';
import { getTestDevice } from '../helpers/gpu';

interface Sent {
  promptIds: number[];
  stopIds: number[];
}

const sent: Record<'cli' | 'app' | 'grpo', Sent[]> = { cli: [], app: [], grpo: [] };
let path: keyof typeof sent = 'cli';
const MAX_TURNS = 3;

const host = new EngineHost({
  getDevice: async () => (await getTestDevice()).device,
  generate: async (_engine, requests) => requests.map(reply),
});
let scenario: Scenario;

function reply(request: Pick<GenerationRequest, 'promptIds' | 'stopIds'>): GeneratedSequence {
  sent[path].push({ promptIds: [...request.promptIds], stopIds: [...(request.stopIds ?? [])] });
  return scriptedTurn(host.model!.tokenizer, request.promptIds);
}

beforeAll(async () => {
  await host.load({ model: { kind: 'tiny', arch: 'qwen2' }, quant: 'q4', maxContext: 2048, maxBatch: 1 }, () => {});
  scenario = generateScenarios({ split: 'test', count: 9, seed: 3 }).find((s) => s.tools.length > 0)!;
});
afterAll(() => host.unload());

describe('the same episode through the CLI eval, the worker and GRPO', () => {
  it('sends identical prompt ids and stop ids, each turn extending the last by sampled ids + delta', async () => {
    const { engine, tokenizer } = host.model!;
    const episodes: EpisodeResult[] = [];

    path = 'cli';
    const cli = createModelPolicy({ engine, tokenizer, generate: async (_e, requests) => requests.map(reply) });
    episodes.push(await runEpisode(scenario, cli, { maxTurns: MAX_TURNS }));

    path = 'app';
    const client = {
      generate: (request: Parameters<EngineHost['generate']>[0], onEvent: Parameters<EngineHost['generate']>[1]) => ({
        result: host.generate(request, onEvent),
        cancel() {},
      }),
    };
    const app = appModelPolicy(client as never, { maxNewTokens: 64, sampling: { greedy: true } });
    episodes.push(await runEpisode(scenario, app, { maxTurns: MAX_TURNS }));

    path = 'grpo';
    const env = new SandboxEnvironment({
      scenarios: [scenario],
      tokenizer,
      maxNewTokens: 64,
      maxTurns: MAX_TURNS,
      maxPromptTokens: 2047,
      modelEosIds: engine.config.eosTokenIds,
    });
    const [rollout] = await env.collect({ step: 0, prompts: 1, groupSize: 1, seed: 0, generate: async (requests) => requests.map(reply) });

    // The episode really has a tool response and a verifier answer between its three turns.
    expect(episodes[0].turns).toHaveLength(3);
    expect(episodes[0].messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user', 'assistant']);
    expect(episodes[1].messages).toEqual(episodes[0].messages);
    expect(rollout.info!.summary).toMatchObject({ scenarioId: scenario.id });

    expect(sent.cli).toHaveLength(3);
    expect(sent.app).toEqual(sent.cli);
    expect(sent.grpo).toEqual(sent.cli);
    expect(new Set(sent.cli[0].stopIds)).toEqual(new Set(tokenizer.eosTokenIds));

    const sampled = sent.cli.map((s) => scriptedTurn(tokenizer, s.promptIds).ids);
    for (let t = 1; t < 3; t++) {
      const prefix = [...sent.cli[t - 1].promptIds, ...sampled[t - 1]];
      expect(sent.cli[t].promptIds.slice(0, prefix.length)).toEqual(prefix);
    }
    expect(cli.transcripts).toMatchObject({ turns: 3, continued: 2, fallbacks: { rewritten: 0 } });
    expect(env.lastTranscripts).toMatchObject({ turns: 3, continued: 2, fallbacks: { rewritten: 0 } });

    // GRPO trains the whole episode as one sequence, only the sampled ids weighted.
    expect(rollout.sequences).toHaveLength(1);
    const seq = rollout.sequences[0];
    expect(seq.ids).toEqual([...sent.cli[2].promptIds, ...sampled[2]]);
    const mask = new Uint8Array(seq.ids.length);
    sent.cli.forEach((s, t) => mask.fill(1, s.promptIds.length, s.promptIds.length + sampled[t].length));
    expect(seq.sampled).toEqual(mask);
  });
});
