// The import entry points: detection from file names, the Evaluate tab's pure import function,
// the CLI (`scenarios --import bfcl|asb|agentdojo DIR_OR_FILES`, exit 2 with file/record/field on
// bad input), `eval` reports carrying the benchmark metrics, base-vs-adapter deltas and CSV.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importSuiteSources } from '../../src/app/lib/suites';
import { detectBenchmark } from '../../src/sandbox/benchmarks/import';
import {
  benchmarkHeadlineRows,
  benchmarkMetricsCsv,
  compareBenchmarkMetrics,
  compareHeadlines,
  type BenchmarkMetrics,
} from '../../src/sandbox/benchmarks/metrics';
import { FIXTURES, loadDir } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'asp-bench-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return {
    code: r.status,
    out: r.stdout,
    err: r.stderr
      .split('\n')
      .filter((l) => l && !l.startsWith('npm warn'))
      .join('\n'),
  };
}

describe('import entry points', () => {
  it('detects each benchmark from its released file names', () => {
    expect(detectBenchmark(loadDir('bfcl'))).toBe('bfcl');
    expect(detectBenchmark(loadDir('asb'))).toBe('asb');
    expect(detectBenchmark(loadDir('agentdojo'))).toBe('agentdojo');
    expect(detectBenchmark(loadDir('agent-safetybench'))).toBe('agent-safetybench');
    expect(detectBenchmark([{ name: 'my-suite.json', text: '{}' }])).toBeNull();
  });

  it("the Evaluate tab import takes a release's files or one suite file, with clear errors", () => {
    expect(importSuiteSources(loadDir('bfcl'))).toMatchObject({ kind: 'bfcl' });
    expect(importSuiteSources(loadDir('asb')).scenarios).toHaveLength(122);
    expect(importSuiteSources(loadDir('agentdojo')).scenarios).toHaveLength(160);
    expect(() =>
      importSuiteSources([
        { name: 'a.json', text: '{}' },
        { name: 'b.json', text: '{}' },
      ]),
    ).toThrow('not a benchmark release this tab knows');
    expect(() => importSuiteSources([{ name: 'a.json', text: '{"format": "x"}' }])).toThrow('a.json');
  });

  it('base vs adapter deltas and a CSV that never starts a cell with a formula', () => {
    const base: BenchmarkMetrics = {
      bfcl: {
        n: 2,
        by_category: { simple_python: { n: 2, correct: 2, accuracy: 1 } },
        simple_ast: 1,
        non_live_ast: 1,
        irrelevance: null,
        live_ast: null,
        overall: 1,
        error_types: {},
      },
    };
    const other: BenchmarkMetrics = {
      bfcl: { ...base.bfcl!, by_category: { simple_python: { n: 2, correct: 1, accuracy: 0.5 } }, simple_ast: 0.5, non_live_ast: 0.5, overall: 0.5 },
    };
    const d = compareBenchmarkMetrics(base, other);
    expect(d.find((r) => r.metric === 'bfcl.overall')).toEqual({ metric: 'bfcl.overall', base: 1, other: 0.5, delta: -0.5 });
    expect(compareHeadlines(base, other).find((r) => r.metric === 'non-live AST accuracy')).toEqual({
      benchmark: 'BFCL',
      metric: 'non-live AST accuracy',
      base: 1,
      other: 0.5,
      delta: -0.5,
    });
    expect(benchmarkHeadlineRows(base).find((r) => r.metric === 'irrelevance detection')).toMatchObject({ value: null, n: 0 });
    const csv = benchmarkMetricsCsv({
      asb: {
        n: 0,
        attacked: { n: 0, asr: 0, original_task_success: 0, refusal_rate: 0 },
        by_setting: {},
        by_setting_variant: {},
        by_aggressive: {},
        by_agent: { '=HYPERLINK("x"),evil': { n: 1, asr: 1, original_task_success: 0, refusal_rate: 0 } },
        by_attack_type: {},
        pna: null,
        nrp: null,
      },
    });
    expect(csv).toContain('"asb.by_agent.=HYPERLINK(""x""),evil.asr",1');
    expect(csv.split('\n').every((l) => !/^[=+\-@]/.test(l))).toBe(true);
  });
});

describe('CLI', () => {
  it('scenarios --import bfcl DIR writes a suite; eval --policy oracle reports BFCL accuracy 1 beside the per-cell rates', () => {
    const suite = join(dir, 'bfcl.json'),
      report = join(dir, 'bfcl-report.json');
    const r = cli('scenarios', '--import', 'bfcl', `${FIXTURES}/bfcl`, '--out', suite);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(suite, 'utf8')).scenarios).toHaveLength(36);
    const e = cli('eval', '--suite', suite, '--policy', 'oracle', '--out', report);
    expect(e.code).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.by_cell['BU-BT'].n).toBe(36);
    expect(rep.benchmarks.bfcl.overall).toBe(1);
    const csv = join(dir, 'bfcl.csv'),
      report2 = join(dir, 'bfcl-report2.json');
    const e2 = cli('eval', '--suite', suite, '--policy', 'refuse', '--out', report2, '--baseline', report, '--benchmarks-csv', csv);
    expect(e2.code).toBe(0);
    expect(e2.out).toContain('BFCL non-live AST accuracy 100.0% → 0.0% (-100.0 points)');
    const rep2 = JSON.parse(readFileSync(report2, 'utf8'));
    expect(rep2.benchmarks_vs_baseline.deltas.find((d: { metric: string }) => d.metric === 'bfcl.overall')).toMatchObject({ base: 1, other: 1 / 6 });
    expect(readFileSync(csv, 'utf8')).toContain('bfcl.by_category.irrelevance.accuracy,1\n');
  });

  it('scenarios --import asb FILES with options; agentdojo folder', () => {
    const asb = loadDir('asb').map((f) => f.name);
    const out = join(dir, 'asb.json');
    const r = cli('scenarios', '--import', 'asb', ...asb, '--settings', 'opi', '--variants', 'naive,combined_attack', '--out', out);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).scenarios).toHaveLength(2 * 6 * 2);
    const d = cli('scenarios', '--import', 'agentdojo', `${FIXTURES}/agentdojo/banking`, '--out', join(dir, 'dojo.json'));
    expect(d.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'dojo.json'), 'utf8')).scenarios).toHaveLength(160);
  });

  it('bad input exits 2 with one line naming the file, record and field', () => {
    const bad = join(dir, 'BFCL_v4_simple_python.json');
    writeFileSync(bad, '{"id": "simple_python_0", "question": [[{"role": "user", "content": 3}]], "function": []}\n');
    const r = cli('scenarios', '--import', 'bfcl', bad, '--out', join(dir, 'x.json'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${bad}: line 1 (id "simple_python_0"): "question[0][0].content" must be a string`);
    expect(cli('scenarios', '--import', 'asb', '--out', join(dir, 'x.json')).code).toBe(2);
    const v = cli('scenarios', '--import', 'asb', `${FIXTURES}/asb`, '--variants', 'polite', '--out', join(dir, 'x.json'));
    expect(v.code).toBe(2);
    expect(v.err).toContain('--variants takes a comma-separated list of naive, escape_characters');
    expect(cli('scenarios', '--import', 'bfcl', `${FIXTURES}/bfcl`, '--tasks-per-agent', '2', '--out', join(dir, 'x.json')).err).toContain(
      '--tasks-per-agent does not apply to --import bfcl',
    );
  });
});
