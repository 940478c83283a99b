// `eval --policy model` end to end as a child process, on a random-weight tiny model folder with the
// real Qwen tokenizer: the text is garbage, so this checks the report's structure, not behaviour.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel } from '../../models/tiny-model';
import { bundledTokenizerFiles } from '../../models/tokenizers/bundled';
import { generateScenarios, makeSuite } from '../../src/sandbox/index';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 400_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function tinyModelDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'asp-eval-model-'));
  const parsed = await bundledTokenizerFiles('qwen2.5');
  const enc = new TextEncoder();
  const tokenizerFiles = new Map([
    ['tokenizer.json', enc.encode(JSON.stringify(parsed.tokenizerJson))],
    ['tokenizer_config.json', enc.encode(JSON.stringify(parsed.tokenizerConfig))],
  ]);
  for (const [name, bytes] of makeTinyModel({ arch: 'qwen2', vocab: 'real', tokenizerFiles }).files) writeFileSync(join(dir, name), bytes);
  return dir;
}

describe('npm run cli -- eval --policy model', () => {
  it('runs a 3-scenario suite with batched episodes and writes a valid REPORT.json', async () => {
    const modelDir = await tinyModelDir();
    const suite = join(modelDir, 'suite.json');
    writeFileSync(suite, JSON.stringify(makeSuite('tiny', generateScenarios({ split: 'test', count: 3, seed: 2 }))));
    const out = join(modelDir, 'report.json');
    const r = cli(
      'eval',
      '--suite',
      suite,
      '--policy',
      'model',
      '--model',
      modelDir,
      '--out',
      out,
      '--seed',
      '3',
      '--max-new-tokens',
      '2',
      '--max-turns',
      '1',
      '--quant',
      'q4',
      '--batch',
      '3',
      '--max-context',
      '1536',
    );
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.episodes).toBe(3);
    expect(report.meta).toMatchObject({ suite: 'tiny', policy: 'model', seed: 3, max_turns: 1, policy_errors: [] });
    // Every rate and mean reward lies in [0, 1]; n and n_* are counts.
    const rates = Object.entries(report.overall as Record<string, number>).filter(([k]) => k !== 'n' && !k.startsWith('n_'));
    expect(rates.length).toBeGreaterThan(8);
    for (const [name, v] of rates) {
      expect(v, name).toBeGreaterThanOrEqual(0);
      expect(v, name).toBeLessThanOrEqual(1);
    }
    expect(Object.values(report.by_cell).reduce((n: number, c) => n + (c as { n: number }).n, 0)).toBe(3);
    // Two random tokens never close a turn properly, so no episode is format-valid.
    expect(report.overall.format_validity).toBe(0);
  });

  it('bad model-policy input gives one line and exit code 2', async () => {
    const noModel = cli('eval', '--suite', 'x.json', '--policy', 'model', '--out', '/tmp/x.json');
    expect(noModel.code).toBe(2);
    expect(noModel.stderr.trim().split('\n')).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'asp-eval-bad-'));
    const suite = join(dir, 'suite.json');
    writeFileSync(suite, JSON.stringify(makeSuite('t', generateScenarios({ split: 'test', count: 1, seed: 2 }))));
    const missing = cli('eval', '--suite', suite, '--policy', 'model', '--model', '/nonexistent/m', '--out', join(dir, 'r.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model \/nonexistent\/m: not a directory/);
    const scripted = cli('eval', '--suite', suite, '--policy', 'oracle', '--batch', '2', '--out', join(dir, 'r.json'));
    expect(scripted.code).toBe(2);
    expect(scripted.stderr).toMatch(/--batch applies to --policy model only/);
    const badTokens = cli('eval', '--suite', suite, '--policy', 'model', '--model', dir, '--max-new-tokens', '0', '--out', join(dir, 'r.json'));
    expect(badTokens.code).toBe(2);
    expect(badTokens.stderr).toMatch(/--max-new-tokens must be a positive integer/);
  });
});
