// The engine CLI in exactly the forms others script against, run as a real child process.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, loadReference } from '../helpers/fixture-models';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run cli -- logits / generate', () => {
  it('logits writes one full-vocabulary row per input position, matching Hugging Face', () => {
    const ref = loadReference('qwen2-tiny-gqa');
    const out = join(mkdtempSync(join(tmpdir(), 'asp-cli-')), 'logits.json');
    const r = cli('logits', '--model', fixtureDir('qwen2-tiny-gqa'), '--ids', ref.input_ids.join(','), '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { logits } = JSON.parse(readFileSync(out, 'utf8')) as { logits: number[][] };
    expect(logits.length).toBe(ref.input_ids.length);
    let maxDiff = 0;
    logits.forEach((row, t) =>
      row.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - ref.logits[t][i]));
      }),
    );
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * ref.logits_std);
  });

  it('generate --ids --greedy --json prints the Hugging Face greedy continuation', () => {
    const ref = loadReference('qwen3-tiny');
    const r = cli('generate', '--model', fixtureDir('qwen3-tiny'), '--ids', ref.greedy.prompt_ids.join(','), '--max-new-tokens', '16', '--greedy', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    // The fixture has no EOS (eos_token_id is null), so all 16 tokens come out.
    expect(out.ids).toEqual(ref.greedy.new_ids);
    expect(out.text).toBe('');
  });

  it('a bad directory, an unknown architecture and a mis-shaped tensor give one line and exit code 2', () => {
    const missing = cli('logits', '--model', '/nonexistent/model', '--ids', '1,2', '--out', '/tmp/x.json');
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/not a directory/);

    const dir = mkdtempSync(join(tmpdir(), 'asp-llama-'));
    cpSync(fixtureDir('qwen2-tiny-tied'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['LlamaForCausalLM'] }));
    const llama = cli('generate', '--model', dir, '--ids', '1,2', '--max-new-tokens', '2', '--greedy');
    expect(llama.code).toBe(2);
    expect(llama.stderr.trim().split('\n')).toHaveLength(1);
    expect(llama.stderr).toMatch(/LlamaForCausalLM/);

    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_size: config.hidden_size * 2 }));
    const shape = cli('logits', '--model', dir, '--ids', '1', '--out', join(dir, 'x.json'));
    expect(shape.code).toBe(2);
    expect(shape.stderr.trim().split('\n')).toHaveLength(1);
    expect(shape.stderr).toMatch(/shape/i);
  });
});
