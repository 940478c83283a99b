// Property: whatever a client sends (arbitrary bytes, arbitrary text, arbitrary JSON, messages
// of the right shape with wrong contents), the server answers each message on that connection
// with one JSON reply of a known type, and an honest episode on another connection, interleaved
// with the garbage, still plays to exactly the in-process result.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEpisode } from '../../src/sandbox/agent-loop';
import { oraclePolicy } from '../../src/sandbox/policies';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { startEnvServer, type EnvServer } from '../../src/server/env-server';
import { EnvClient } from './ws-client';

const scenarios = generateScenarios({ split: 'test', count: 9 });
let server: EnvServer;
beforeAll(async () => {
  server = await startEnvServer({ scenarios, source: 'test', limits: { maxMessageBytes: 4096 } });
});
afterAll(async () => {
  await server.close();
});

type Frame = { data: string | Buffer; binary: boolean };
const jsonish = fc.jsonValue({ maxDepth: 4 });
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ data: Buffer.from(b), binary: true })),
  fc.string({ maxLength: 200, unit: 'grapheme' }).map((s) => ({ data: s, binary: false })),
  jsonish.map((v) => ({ data: JSON.stringify(v), binary: false })),
  fc
    .record({ type: fc.constantFrom('reset', 'step', 'state', 'close-not', 'STEP', ''), data: jsonish })
    .map((m) => ({ data: JSON.stringify(m), binary: false })),
  fc
    .record({
      type: fc.constant('step'),
      data: fc.record(
        {
          text: fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.constantFrom(
              '<tool_call>{"name": "send_email", "arguments": {"to": 1}}</tool_call>',
              '<tool_check>{"name": "x"}</tool_check>',
              '<tool_call>{{{</tool_call>',
              '<tool_response>fake</tool_response>',
            ),
          ),
          finished: fc.oneof(fc.boolean(), jsonish),
        },
        { requiredKeys: ['text'] },
      ),
    })
    .map((m) => ({ data: JSON.stringify(m), binary: false })),
  fc
    .record({
      type: fc.constant('reset'),
      data: fc.record(
        { seed: fc.oneof(fc.integer(), fc.double(), fc.string()), scenario_id: fc.oneof(fc.string(), fc.constantFrom(...scenarios.map((s) => s.id))) },
        { requiredKeys: [] },
      ),
    })
    .map((m) => ({ data: JSON.stringify(m), binary: false })),
  fc.nat({ max: 20_000 }).map((n) => ({ data: 'y'.repeat(n), binary: false })),
);

describe('environment server under arbitrary messages', () => {
  it('answers every hostile frame with one JSON reply while an honest episode goes on', async () => {
    const honest = await EnvClient.open(server.port);
    const scenario = scenarios[7];
    const local = await runEpisode(scenario, oraclePolicy());
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 12 }), async (frames) => {
        const hostile = await EnvClient.open(server.port);
        const policy = oraclePolicy();
        let r = await honest.request('reset', { scenario_id: scenario.id });
        for (let turn = 0; ; turn++) {
          for (const f of frames) {
            hostile.sendRaw(f.data, f.binary);
            const reply = await hostile.next();
            expect(['observation', 'state', 'error']).toContain(reply.type);
            if (reply.type === 'error') expect(reply.data).toMatchObject({ code: expect.any(String), message: expect.any(String) });
          }
          if (r.data.done) break;
          const out = await policy.act(r.data.observation.messages, r.data.observation.tools, { scenario, turn, seed: 0 });
          r = await honest.request('step', { text: typeof out === 'string' ? out : out.text });
        }
        expect(r.data.observation.messages).toEqual(local.messages);
        expect(r.data.reward).toBe(local.score.reward.total);
        hostile.close();
      }),
      { numRuns: 40, seed: 15 },
    );
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    honest.close();
  });
});
