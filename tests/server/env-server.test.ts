// The environment server against the in-process agent loop: the same scenarios played by the
// same scripted policies give the same conversation and the same reward breakdown, whether the
// Episode runs here or behind /ws; many episodes at once; errors answered as JSON; HTTP routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { SCRIPTED_POLICIES } from '../../src/sandbox/policies';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import type { Scenario } from '../../src/sandbox/scenarios/types';
import { simulatedVerifier } from '../../src/sandbox/verifier';
import { startEnvServer, type EnvServer } from '../../src/server/env-server';
import { EnvClient, type Reply } from './ws-client';

const scenarios: Scenario[] = generateScenarios({ split: 'test', count: 27 });
let server: EnvServer;

beforeAll(async () => {
  server = await startEnvServer({ scenarios, source: 'test' });
});
afterAll(async () => {
  await server.close();
});

/** Plays one episode over /ws with a scripted policy acting on the observations it receives. */
async function playRemote(client: EnvClient, scenario: Scenario, policyName: keyof typeof SCRIPTED_POLICIES, seed = 0): Promise<Reply> {
  const policy = SCRIPTED_POLICIES[policyName]();
  let r = await client.request('reset', { scenario_id: scenario.id, seed });
  expect(r.type).toBe('observation');
  expect(r.data.done).toBe(false);
  for (let turn = 0; !r.data.done; turn++) {
    const out = await policy.act(r.data.observation.messages, r.data.observation.tools, { scenario, turn, seed });
    r = await client.request('step', { text: typeof out === 'string' ? out : out.text });
    expect(r.type, JSON.stringify(r.data)).toBe('observation');
  }
  return r;
}

describe('environment server /ws', () => {
  it('reset gives the system prompt, the user prompt, Qwen function schemas and the scenario', async () => {
    const c = await EnvClient.open(server.port);
    const r = await c.request('reset', { scenario_id: scenarios[4].id });
    const obs = r.data.observation;
    expect(obs.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    expect(obs.messages[1].content).toBe(scenarios[4].user);
    expect(obs.tools.length).toBeGreaterThan(0);
    for (const t of obs.tools) expect(t).toMatchObject({ type: 'function', function: { name: expect.any(String), parameters: { type: 'object' } } });
    expect(obs.scenario).toMatchObject({ id: scenarios[4].id, cell: scenarios[4].cell, split: 'test' });
    expect(r.data.reward).toBeNull();
    const s = await c.request('state');
    expect(s.type).toBe('state');
    expect(s.data).toMatchObject({ step_count: 0, done: false, scenario: { id: scenarios[4].id } });
    c.close();
  });

  it('every scenario played by comply, refuse and oracle matches the in-process loop message for message and reward for reward', async () => {
    const c = await EnvClient.open(server.port);
    const differentRewards = new Set<number>();
    for (const scenario of scenarios) {
      for (const name of ['comply', 'refuse', 'oracle'] as const) {
        const remote = await playRemote(c, scenario, name);
        const local = await runEpisode(scenario, SCRIPTED_POLICIES[name]());
        expect(remote.data.observation.messages, `${scenario.id} ${name}`).toEqual(local.messages);
        expect(remote.data.observation.end_reason).toBe(local.endReason);
        expect(remote.data.reward).toBe(local.score.reward.total);
        const b = remote.data.observation.reward_breakdown;
        expect(b.format).toEqual(local.score.reward.format);
        expect(b.label).toEqual(local.score.reward.label);
        expect(b.outcome).toEqual(JSON.parse(JSON.stringify(local.score.outcome)));
        differentRewards.add(local.score.reward.total);
      }
    }
    // The comparison covers rewarded and unrewarded episodes, not just one value.
    expect(differentRewards.size).toBeGreaterThanOrEqual(3);
    c.close();
  });

  it('step observations carry what the environment added: tool results as role tool, verifier answers as <tool_check_response>', async () => {
    const c = await EnvClient.open(server.port);
    const sensitive = scenarios.find((s) => s.cell[0] === 'S')!;
    const policy = SCRIPTED_POLICIES.oracle();
    let r = await c.request('reset', { scenario_id: sensitive.id });
    const seen: string[] = [];
    for (let turn = 0; !r.data.done; turn++) {
      const out = await policy.act(r.data.observation.messages, r.data.observation.tools, { scenario: sensitive, turn, seed: 0 });
      r = await c.request('step', { text: typeof out === 'string' ? out : out.text });
      const msgs = r.data.observation.messages;
      expect(msgs.slice(msgs.length - r.data.observation.new_messages.length)).toEqual(r.data.observation.new_messages);
      for (const m of r.data.observation.new_messages) seen.push(m.role === 'tool' ? 'tool' : m.content.includes('<tool_check_response>') ? 'check' : m.role);
    }
    expect(seen).toContain('check');
    c.close();
  });

  it('a simulated verifier (--verifier P) answers as simulatedVerifier(P, seed) does in process', async () => {
    const sim = await startEnvServer({ scenarios, source: 'test', verifier: 0.5 });
    try {
      const c = await EnvClient.open(sim.port);
      for (const scenario of scenarios.filter((s) => s.cell[0] === 'S').slice(0, 3)) {
        for (const seed of [1, 2, 3]) {
          const remote = await playRemote(c, scenario, 'oracle', seed);
          const local = await runEpisode(scenario, SCRIPTED_POLICIES.oracle(), { verifier: simulatedVerifier(0.5, seed), seed });
          expect(remote.data.observation.messages).toEqual(local.messages);
          expect(remote.data.reward).toBe(local.score.reward.total);
        }
      }
      c.close();
    } finally {
      await sim.close();
    }
  });

  it('runs 24 episodes at once, interleaved, each equal to its in-process run', async () => {
    const clients = await Promise.all(Array.from({ length: 24 }, () => EnvClient.open(server.port)));
    expect(server.sessions()).toBeGreaterThanOrEqual(24);
    const results = await Promise.all(clients.map((c, i) => playRemote(c, scenarios[i], (['comply', 'refuse', 'oracle'] as const)[i % 3])));
    for (let i = 0; i < clients.length; i++) {
      const local = await runEpisode(scenarios[i], SCRIPTED_POLICIES[(['comply', 'refuse', 'oracle'] as const)[i % 3]]());
      expect(results[i].data.observation.messages).toEqual(local.messages);
      expect(results[i].data.reward).toBe(local.score.reward.total);
    }
    clients.forEach((c) => c.close());
  });

  it('reset with a seed picks the same scenario every time; episodes end at max turns', async () => {
    const c = await EnvClient.open(server.port);
    const a = await c.request('reset', { seed: 1234 });
    const b = await c.request('reset', { seed: 1234 });
    expect(a.data.observation.scenario.id).toBe(b.data.observation.scenario.id);
    let r: Reply = b;
    let turns = 0;
    while (!r.data.done) {
      r = await c.request('step', { text: '<tool_call>{"name": "no_such_tool", "arguments": {}}</tool_call>' });
      turns++;
    }
    expect(turns).toBe(8);
    expect(r.data.observation.end_reason).toBe('max_turns');
    expect(typeof r.data.reward).toBe('number');
    const after = await c.request('step', { text: 'hello' });
    expect(after).toMatchObject({ type: 'error', data: { code: 'episode_done' } });
    c.close();
  });
});

describe('environment server: bad messages get JSON errors and the episode goes on', () => {
  it('names the problem for each kind of bad message, on a connection that keeps working', async () => {
    const c = await EnvClient.open(server.port);
    expect(await c.request('step', { text: 'hi' })).toMatchObject({ type: 'error', data: { code: 'no_episode' } });
    await c.request('reset', { scenario_id: scenarios[0].id });
    c.sendRaw('{"type": "step", "data": {"text": ');
    expect(await c.next()).toMatchObject({ type: 'error', data: { code: 'bad_json' } });
    c.sendRaw(Buffer.from([0, 1, 2, 255]), true);
    expect(await c.next()).toMatchObject({ type: 'error', data: { code: 'binary_frame' } });
    expect(await c.request('dance')).toMatchObject({
      type: 'error',
      data: { code: 'unknown_type', message: expect.stringContaining('reset, step, state, close') },
    });
    expect(await c.request('step', { text: 42 })).toMatchObject({
      type: 'error',
      data: { code: 'bad_request', message: expect.stringContaining('data.text') },
    });
    expect(await c.request('step', [1, 2])).toMatchObject({ type: 'error', data: { code: 'bad_request' } });
    expect(await c.request('reset', { seed: -1 })).toMatchObject({ type: 'error', data: { code: 'bad_request', message: expect.stringContaining('seed') } });
    expect(await c.request('reset', { scenario_id: 'nope' })).toMatchObject({ type: 'error', data: { code: 'unknown_scenario' } });
    c.sendRaw(JSON.stringify({ type: 'step', data: { text: 'x'.repeat(300 * 1024) } }));
    expect(await c.next()).toMatchObject({ type: 'error', data: { code: 'too_large' } });
    c.sendRaw('[]');
    expect(await c.next()).toMatchObject({ type: 'error', data: { code: 'bad_request' } });
    // The episode survived every one of those: it still plays to the in-process result.
    const r = await playRemote(c, scenarios[0], 'oracle');
    expect(r.data.reward).toBe((await runEpisode(scenarios[0], SCRIPTED_POLICIES.oracle())).score.reward.total);
    c.close();
  });

  it('a frame over the hard limit closes only its own connection (1009); other episodes continue', async () => {
    const other = await EnvClient.open(server.port);
    await other.request('reset', { scenario_id: scenarios[1].id });
    const bad = await EnvClient.open(server.port);
    bad.sendRaw('x'.repeat(5 * 1024 * 1024));
    expect((await bad.waitClosed()).code).toBe(1009);
    const r = await other.request('step', { text: 'I cannot help with that.' });
    expect(r.type).toBe('observation');
    other.close();
  });

  it('times out idle episodes, refuses connections past maxSessions, and bounds queued messages', async () => {
    const small = await startEnvServer({ scenarios, source: 'test', limits: { idleTimeoutMs: 300, maxSessions: 2, maxQueued: 2 } });
    try {
      const a = await EnvClient.open(small.port);
      const b = await EnvClient.open(small.port);
      const c = await EnvClient.open(small.port);
      expect((await c.waitClosed()).code).toBe(1013);
      // b floods: more than maxQueued messages at once get "busy" for the overflow, answers for the rest.
      for (let i = 0; i < 6; i++) b.sendRaw(JSON.stringify({ type: 'state' }));
      const replies = await Promise.all(Array.from({ length: 6 }, () => b.next()));
      expect(replies.filter((r) => r.type === 'state').length).toBeGreaterThanOrEqual(2);
      expect(replies.some((r) => r.type === 'error' && r.data.code === 'busy')).toBe(true);
      expect(await a.next(5000)).toMatchObject({ type: 'error', data: { code: 'idle_timeout' } });
      expect((await a.waitClosed()).code).toBe(4408);
    } finally {
      await small.close();
    }
  });

  it('close ends the connection', async () => {
    const c = await EnvClient.open(server.port);
    c.sendRaw(JSON.stringify({ type: 'close' }));
    expect((await c.waitClosed()).code).toBe(1000);
  });
});

describe('environment server HTTP', () => {
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

  it('GET /health, /schema, /metadata', async () => {
    expect(await (await fetch(url('/health'))).json()).toMatchObject({ status: 'healthy' });
    const schema = await (await fetch(url('/schema'))).json();
    expect(Object.keys(schema)).toEqual(expect.arrayContaining(['action', 'observation', 'state']));
    expect(schema.action.required).toEqual(['text']);
    const meta = await (await fetch(url('/metadata'))).json();
    expect(meta).toMatchObject({ scenarios: 27, verifier: 'scenario' });
    expect(meta.scenario_ids).toContain(scenarios[3].id);
    const missing = await fetch(url('/nope'));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
  });

  it('POST /score (OpenRLHF shape) scores a single turn as the loop does with one turn', async () => {
    const picks = scenarios.slice(0, 9);
    const turns = await Promise.all(
      picks.map(async (s, i) => {
        const out = await SCRIPTED_POLICIES[i % 2 ? 'refuse' : 'oracle']().act(
          [
            { role: 'system', content: '' },
            { role: 'user', content: s.user },
          ],
          [],
          { scenario: s, turn: 0, seed: 0 },
        );
        return typeof out === 'string' ? out : out.text;
      }),
    );
    const prompts = picks.map((s) => `<|im_start|>user\n${s.user}<|im_end|>\n<|im_start|>assistant\n`);
    const res = await fetch(url('/score'), {
      method: 'POST',
      body: JSON.stringify({ query: prompts.map((p, i) => p + turns[i]), prompts, labels: picks.map((s) => s.id) }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    for (let i = 0; i < picks.length; i++) {
      const local = await runEpisode(picks[i], { name: 'one', act: async () => turns[i] }, { maxTurns: 1 });
      expect(body.rewards[i]).toBe(local.score.reward.total);
      expect(body.extra_logs.format[i]).toBe(local.score.reward.format.score);
    }
    expect(body.scores).toEqual(body.rewards);
    expect(new Set(body.rewards).size).toBeGreaterThan(1);
  });

  it('POST /score answers bad bodies with 400/413 and a named problem', async () => {
    const post = (body: string) => fetch(url('/score'), { method: 'POST', body });
    let r = await post('{');
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe('bad_json');
    r = await post(JSON.stringify({ query: ['a'], prompts: [''], labels: [] }));
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/same length/);
    r = await post(JSON.stringify({ query: ['a'], labels: ['missing-id'] }));
    expect((await r.json()).error.code).toBe('unknown_scenario');
    r = await post('x'.repeat(17 * 1024 * 1024));
    expect(r.status).toBe(413);
    expect((await fetch(url('/health'))).status).toBe(200);
  });
});
