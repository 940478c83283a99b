// The agent loop: step-by-step use, message sources for loss masking, verifiers, malformed
// output as error observations, turn limits and policy failures.
import { describe, expect, it } from 'vitest';
import { Episode, runEpisode } from '../../src/sandbox/agent-loop';
import { toStructuredMessages } from '../../src/sandbox/messages';
import { formatToolCall, formatToolCheck } from '../../src/sandbox/parse';
import type { Policy } from '../../src/sandbox/policy';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { callbackVerifier, simulatedVerifier } from '../../src/sandbox/verifier';
import { SYSTEM_PROMPT } from '../../src/sandbox/prompts';

const pool = generateScenarios({ split: 'test', count: 90 });
const su = { ...pool.find((s) => s.cell === 'SU-BT')! };
const bu = pool.find((s) => s.cell === 'BU-BT' && s.userGoal.plan.length === 1)!;
const withEmail = pool.find((s) => s.cell === 'BU-BT' && s.tools.includes('email_search'))!;
const script = (turns: string[]): Policy => ({ name: 'script', act: async (_c, _t, { turn }) => turns[turn] ?? 'Done.' });

describe('agent loop', () => {
  it('runs step by step, tagging model and environment messages', async () => {
    const read = bu.userGoal.plan[0];
    const ep = new Episode(bu, script([formatToolCall(read.name, read.arguments), 'All done.']));
    expect(ep.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(ep.messages[0].content).toBe(SYSTEM_PROMPT);
    const t0 = await ep.step();
    expect(t0!.calls).toHaveLength(1);
    expect(t0!.added.map((a) => [a.message.role, a.source])).toEqual([
      ['assistant', 'model'],
      ['tool', 'environment'],
    ]);
    expect(ep.done).toBe(false);
    const t1 = await ep.step();
    expect(t1!.final).toBe(true);
    expect(ep.done).toBe(true);
    expect(await ep.step()).toBeNull();
    const r = ep.result();
    expect(r.sources).toEqual(['prompt', 'prompt', 'model', 'environment', 'model']);
    expect(r.endReason).toBe('final_answer');
    expect(r.score.reward.total).toBe(1);
    const structured = toStructuredMessages(r.messages);
    expect(structured[2].tool_calls).toEqual([{ type: 'function', function: { name: read.name, arguments: read.arguments } }]);
  });

  it('streams turns with steps()', async () => {
    const read = bu.userGoal.plan[0];
    const ep = new Episode(bu, script([formatToolCall(read.name, read.arguments), 'All done.']));
    const seen: number[] = [];
    for await (const turn of ep.steps()) seen.push(turn.index);
    expect(seen).toEqual([0, 1]);
    expect(ep.done).toBe(true);
  });

  it('gives tools in the chat-template schema format', async () => {
    let seen: unknown[] = [];
    await runEpisode(bu, {
      name: 'spy',
      act: async (_c, tools) => {
        seen = tools;
        return 'ok';
      },
    });
    expect(seen.length).toBe(bu.tools.length);
    expect(seen[0]).toMatchObject({
      type: 'function',
      function: { name: expect.any(String), description: expect.any(String), parameters: { type: 'object' } },
    });
  });

  it('turns malformed output into error observations and still scores the episode', async () => {
    const r = await runEpisode(
      withEmail,
      script([
        '<tool_call>{"name": "nope", "arguments": {}}</tool_call>',
        '<tool_call>{bad json</tool_call>',
        '<tool_call>{"name": "email_search", "arguments": {"query": 5}}</tool_call>',
        '<tool_check>{"name": "ghost", "arguments": {}, "reason": "?"}</tool_check>',
        '<tool_call>unclosed',
        'bye',
      ]),
      { maxTurns: 10 },
    );
    const obs = r.turns.flatMap((t) => t.observations.map((o) => o.error));
    expect(obs[0]).toMatch(/unknown tool "nope"/);
    expect(obs[1]).toMatch(/invalid JSON/);
    expect(obs[2]).toMatch(/email_search: argument "query" must be string/);
    expect(obs[3]).toMatch(/unknown tool "ghost"/);
    expect(obs[4]).toMatch(/unclosed <tool_call>/);
    expect(r.endReason).toBe('final_answer');
    expect(r.score.reward.format.score).toBe(0);
    expect(r.messages.filter((m) => m.role === 'tool')).toHaveLength(5);
  });

  it('stops at the turn limit and reports policy errors without throwing', async () => {
    const loop = await runEpisode(bu, script(Array(20).fill(formatToolCall('email_search', { query: 'x' }))), { maxTurns: 3 });
    expect(loop.turns).toHaveLength(3);
    expect(loop.endReason).toBe('max_turns');
    const broken = await runEpisode(bu, {
      name: 'broken',
      act: async () => {
        throw new Error('GPU lost');
      },
    });
    expect(broken.endReason).toBe('policy_error');
    expect(broken.error).toMatch(/GPU lost/);
    expect(broken.score.reward.total).toBe(0);
  });

  it('answers verification with a seeded simulated verifier, a callback, or the scenario owner', async () => {
    const sa = su.sensitiveActions[0].example;
    const turns = [formatToolCheck(sa.name, sa.arguments, 'money')];
    const answers = async (v: ReturnType<typeof simulatedVerifier>) => (await runEpisode(su, script(turns), { verifier: v })).checks[0].approved;
    const seq = await Promise.all(Array.from({ length: 3 }, () => answers(simulatedVerifier(0.5, 99))));
    expect(new Set(seq).size).toBe(1); // same seed, same answer
    expect(await answers(simulatedVerifier(1))).toBe(true);
    expect(await answers(simulatedVerifier(0))).toBe(false);
    let asked = '';
    const human = callbackVerifier('human', async (req) => {
      asked = req.name;
      return false;
    });
    const r = await runEpisode(su, script(turns), { verifier: human });
    expect(asked).toBe(sa.name);
    expect(r.messages.at(-2)!.content).toContain('"approved":false');
    expect(r.messages.at(-2)!.role).toBe('user');
    const owner = await runEpisode(su, script(turns));
    expect(owner.checks[0].approved).toBe(su.sensitiveActions[0].ownerApproves);
    expect(() => simulatedVerifier(1.5)).toThrow(/probability/);
  });

  it('records pre and post state and the state changes of executed calls', async () => {
    const s = { ...su, sensitiveActions: su.sensitiveActions.map((a) => ({ ...a, ownerApproves: true })) };
    const sa = s.sensitiveActions[0].example;
    const r = await runEpisode(s, script([formatToolCheck(sa.name, sa.arguments, 'r'), formatToolCall(sa.name, sa.arguments), 'done']));
    expect(r.calls[0].approvedBefore).toBe(true);
    expect(r.changes.map((c) => c.tool)).toContain(sa.name);
    expect(r.preState).not.toEqual(r.postState);
  });

  it('stops early when aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const r = await runEpisode(bu, script(['x']), { signal: ctl.signal });
    expect(r.endReason).toBe('aborted');
    expect(r.turns).toHaveLength(0);
  });
});
