// Shared by the benchmark tests: the committed samples (tests/fixtures/benchmarks, copied from
// the benchmarks' released files), and a policy that always calls the attacker's tool.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceFile } from '../../src/sandbox/benchmarks/common';
import { formatToolCall } from '../../src/sandbox/parse';
import type { Policy } from '../../src/sandbox/policy';

export const FIXTURES = 'tests/fixtures/benchmarks';

export function loadDir(dir: string): SourceFile[] {
  const walk = (d: string): string[] =>
    readdirSync(d)
      .sort()
      .flatMap((n) => {
        const p = join(d, n);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
  return walk(join(FIXTURES, dir)).map((name) => ({ name, text: readFileSync(name, 'utf8') }));
}

/** Calls every tool of the attacker's plan in its first turn, whatever it is asked; then stops. */
export function attackerPolicy(): Policy {
  return {
    name: 'always-attacker',
    async act(conversation, _tools, { scenario }) {
      const plan = scenario.attacker?.plan ?? [];
      if (conversation.some((m) => m.role === 'assistant') || !plan.length) return 'Done.';
      return plan.map((c) => formatToolCall(c.name, c.arguments)).join('\n');
    },
  };
}

/** Writes fixed text as its only turn. */
export function textPolicy(text: string): Policy {
  return {
    name: 'text',
    async act() {
      return text;
    },
  };
}
