// The CLI commands end to end: `scenarios` writes a suite, `eval` writes REPORT.json with the
// documented shape; bad input exits 2 with one line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as scenariosRun } from '../../src/cli/commands/scenarios';
import { CELLS } from '../../src/sandbox/scenarios/types';

const dir = mkdtempSync(join(tmpdir(), 'asp-sandbox-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return {
    code: r.status,
    out: r.stdout,
    err: r.stderr
      .split('\n')
      .filter((l) => l && !l.startsWith('npm warn'))
      .join('\n'),
  };
}

function checkRates(block: Record<string, number>) {
  expect(block.attack_success_rate).toBeTypeOf('number');
  for (const [k, v] of Object.entries(block)) {
    expect(Number.isFinite(v), k).toBe(true);
    if (!k.startsWith('n')) {
      expect(v, k).toBeGreaterThanOrEqual(0);
      expect(v, k).toBeLessThanOrEqual(1);
    }
  }
}

describe('CLI: scenarios and eval', () => {
  const suite = join(dir, 'suite.json');

  it('scenarios --builtin test writes a suite', () => {
    const r = cli('scenarios', '--builtin', 'test', '--count', '45', '--out', suite);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(suite, 'utf8'));
    expect(s.format).toBe('agent-safety-suite');
    expect(s.scenarios).toHaveLength(45);
  }, 60_000);

  it('eval writes REPORT.json with overall, by_cell and by_attack_type', () => {
    const out = join(dir, 'report.json');
    const r = cli('eval', '--suite', suite, '--policy', 'comply', '--out', out, '--seed', '3');
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(rep.episodes).toBe(45);
    checkRates(rep.overall);
    expect(Object.keys(rep.by_cell).sort()).toEqual([...CELLS].sort());
    for (const cell of CELLS) {
      expect(rep.by_cell[cell].n).toBe(5);
      checkRates(rep.by_cell[cell]);
    }
    expect(Object.keys(rep.by_attack_type).length).toBeGreaterThan(0);
    for (const b of Object.values(rep.by_attack_type)) checkRates(b as Record<string, number>);
    expect(rep.overall.attack_success_rate).toBe(1);
    expect(rep.by_cell['BU-BT'].benign_task_completion).toBe(1);
  }, 60_000);

  it('eval with oracle and the simulated verifier', () => {
    const out = join(dir, 'oracle.json');
    const r = cli('eval', '--suite', suite, '--policy', 'oracle', '--out', out, '--verifier', '0.5');
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(rep.overall.attack_success_rate).toBe(0);
    expect(rep.overall.refusal_rate_malicious).toBe(1);
    expect(rep.meta.verifier).toBe('simulated(p=0.5)');
  }, 60_000);

  it('bad input exits 2 with a one-line error', () => {
    const cases: [string[], RegExp][] = [
      [
        ['eval', '--suite', join(dir, 'missing.json'), '--policy', 'comply', '--out', join(dir, 'x.json')],
        /^error: cannot read suite .*missing.json: no such file or folder$/,
      ],
      // Issue #12: a raw ENOENT after the run, and an unbounded count, became one sentence and exit 2.
      [
        ['eval', '--suite', suite, '--policy', 'comply', '--out', '/missing/dir/r.json'],
        /^error: --out \/missing\/dir\/r.json: the folder \/missing\/dir does not exist$/,
      ],
      [
        ['scenarios', '--builtin', 'test', '--count', '1e12', '--out', join(dir, 'x.json')],
        /^error: --count must be an integer from 1 to 50000, got 1000000000000$/,
      ],
      [
        ['train', '--model', dir, '--builtin', 'train', '--steps', '1', '--out', join(dir, 'ad'), '--resume', '/missing'],
        /^error: --resume \/missing: no such folder$/,
      ],
      [['eval', '--suite', suite, '--policy', 'model', '--out', join(dir, 'x.json')], /--policy model needs --model DIR/],
      [['eval', '--suite', suite, '--policy', 'greedy', '--out', join(dir, 'x.json')], /--policy must be one of comply\|refuse\|oracle\|model/],
      [['scenarios', '--builtin', 'dev', '--out', join(dir, 'x.json')], /--builtin must be one of train\|test/],
    ];
    for (const [args, msg] of cases) {
      const r = cli(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err.split('\n')).toHaveLength(1);
    }
  }, 120_000);

  it('scenarios imports InjecAgent cases with and without tools.json', async () => {
    const fx = 'tests/fixtures/injecagent';
    for (const tools of [`${fx}/tools.json`, undefined]) {
      const out = join(dir, 'ia.json');
      // The flags as parseFlags gives them for `--import injecagent FILE [--tools TOOLS.json] --out OUT`.
      const flags = new Map<string, string | true>([
        ['import', 'injecagent'],
        ['import[1]', `${fx}/test_cases_ds.json`],
        ['out', out],
      ]);
      if (tools) flags.set('tools', tools);
      await scenariosRun(flags);
      const s = JSON.parse(readFileSync(out, 'utf8'));
      expect(s.scenarios).toHaveLength(3);
      expect(s.scenarios[0].attacker.dataStealing.exfilTool).toBe('GmailSendEmail');
    }
    await expect(
      scenariosRun(
        new Map([
          ['import', 'injecagent'],
          ['out', join(dir, 'y.json')],
        ]),
      ),
    ).rejects.toThrow(/needs a FILE/);
    await expect(
      scenariosRun(
        new Map([
          ['import', 'injecagent'],
          ['import[1]', 'nope.json'],
          ['out', join(dir, 'y.json')],
        ]),
      ),
    ).rejects.toThrow(/cannot read InjecAgent test cases nope.json/);
  });
});
