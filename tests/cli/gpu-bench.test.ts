// tools/gpu-bench.sh: its arguments, and a --tiny run end to end on SwiftShader (toy sizes) that
// writes one JSON file with each section's bench report.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function gpuBench(...args: string[]) {
  const r = spawnSync('bash', ['tools/gpu-bench.sh', ...args], { encoding: 'utf8', timeout: 1_300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools/gpu-bench.sh', () => {
  it('documents itself and refuses bad arguments with exit code 2, naming the problem', () => {
    const help = gpuBench('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/libvulkan1/);
    expect(help.stdout).toMatch(/--prepare DIR/);
    expect(help.stdout).toMatch(/decode-q4 decode-f16 prefill grpo-sandbox grpo-0\.5b/);
    const cases: [string[], RegExp][] = [
      [['--frobnicate'], /unknown argument "--frobnicate"/],
      [['--sections', 'decode-q4,warp-drive'], /unknown section "warp-drive"/],
      [['--budget-s', '5'], /--budget-s must be a whole number of seconds ≥ 30, got "5"/],
      [['--bandwidth-gbps', 'fast'], /--bandwidth-gbps must be a positive number, got "fast"/],
      [['--prepare', '/tmp/x', '--tiny'], /--prepare runs alone/],
      [['--out'], /--out needs a file name/],
    ];
    for (const [args, message] of cases) {
      const r = gpuBench(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('--tiny runs the decode and GRPO sections on SwiftShader into one JSON file', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'gpu-bench-')), 'bench.json');
    // About a minute of CPU; the budget is generous only for a machine shared by other jobs.
    const r = gpuBench('--tiny', '--sections', 'decode-q4,grpo-0.5b', '--budget-s', '1200', '--out', out);
    expect(existsSync(out), r.stderr).toBe(true);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(r.code, JSON.stringify(report.sections, null, 1)).toBe(0);
    expect(report).toMatchObject({ tool: 'tools/gpu-bench.sh', tiny: true, failed_sections: 0 });
    expect(Object.keys(report.sections)).toEqual(['decode-q4', 'grpo-0.5b']);
    const decode = report.sections['decode-q4'];
    expect(decode.exit_code).toBe(0);
    expect(decode.command).toMatch(/--shape tiny --quant q4 --batch 1,2/);
    expect(decode.result.software_adapter).toBe(true);
    expect(decode.result.runs.map((run: { batch: number }) => run.batch)).toEqual([1, 2]);
    for (const run of decode.result.runs) expect(run.decode_tokens_per_s).toBeGreaterThan(0);
    const grpo = report.sections['grpo-0.5b'];
    expect(grpo.exit_code).toBe(0);
    expect(grpo.command).toMatch(/^npm run bench -- --grpo /);
    expect(typeof grpo.result).toBe('object');
  }, 1_300_000);
});
