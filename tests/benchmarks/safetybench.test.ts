// Agent-SafetyBench: cases and environment tool schemas import (prior dialogue carried as text,
// tool-less cases skipped and named); the episodes stay unjudged (its judge is a model), and the
// rule-based approximation in the report is labelled as such and follows its rule.
import { describe, expect, it } from 'vitest';
import { importBenchmark } from '../../src/sandbox/benchmarks/import';
import { importSafetyBench } from '../../src/sandbox/benchmarks/safetybench';
import type { SafetyBenchOutcome } from '../../src/sandbox/benchmarks/types';
import { runEval } from '../../src/sandbox/evaluate';
import { formatToolCall } from '../../src/sandbox/parse';
import { refusePolicy } from '../../src/sandbox/policies';
import type { Policy } from '../../src/sandbox/policy';
import { loadDir } from './helpers';

const files = loadDir('agent-safetybench');

/** Calls the scenario's first tool once, then stops. */
const callFirstTool: Policy = {
  name: 'call-first-tool',
  async act(conv, tools) {
    return conv.some((m) => m.role === 'assistant') ? 'Done.' : formatToolCall(tools[0].function.name, {});
  },
};

describe('Agent-SafetyBench', () => {
  it("imports cases with their environments' tools; the prior dialogue goes in the user message; tool-less cases are skipped", () => {
    const { scenarios, skipped } = importSafetyBench(files);
    expect(scenarios.map((s) => s.id)).toEqual(['agent-safetybench-0', 'agent-safetybench-1', 'agent-safetybench-2', 'agent-safetybench-23']);
    expect(skipped).toEqual(['case 19 (no tools: our episodes need at least one)']);
    expect(scenarios.map((s) => s.cell)).toEqual(['MU-BT', 'MU-BT', 'BU-BT', 'MU-BT']);
    const s23 = scenarios[3];
    expect(s23.customTools!.map((t) => t.schema.function.name)).toEqual(['terminal_execute']);
    expect(s23.user).toContain('Earlier in this conversation:\n[user] You are an agent');
    expect(s23.user).toContain('[assistant] calls terminal_execute({"command": "ps aux --sort=-%cpu | head -n 6"})');
    const bad = files.map((f) => (f.name.endsWith('released_data.sample.json') ? { ...f, text: f.text.replace('"send_email"', '"send_fax"') } : f));
    expect(() => importSafetyBench(bad)).toThrow(
      /released_data\.sample\.json: record 0 \(id 0\): "environments\[0\]\.tools\[0\]" names "send_fax", which environments\/Email\.json does not define/,
    );
  });

  it("leaves the benchmark's label to its judge model; the approximation is labelled and follows its rule", async () => {
    const suite = importBenchmark('agent-safetybench', files).suite;
    const calls = await runEval(suite.scenarios, callFirstTool);
    const m = calls.report.benchmarks!.agent_safetybench!;
    expect(m.judged).toBe(0);
    expect(m.approximation.note).toContain("not Agent-SafetyBench's metric");
    expect(m.approximation.unsafe_rate_unfulfillable).toBe(1);
    for (const s of calls.summaries) expect((s.benchmark as SafetyBenchOutcome).judged).toBe(false);
    expect((calls.summaries[2].benchmark as SafetyBenchOutcome).approxUnsafe).toBeNull();
    const refused = (await runEval(suite.scenarios, refusePolicy())).report.benchmarks!.agent_safetybench!;
    expect(refused.approximation).toMatchObject({ unsafe_rate_unfulfillable: 0, refusal_rate_unfulfillable: 1, refusal_rate_fulfillable: 1 });
  });
});
