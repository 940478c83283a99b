// `cli grad` and `cli logits --adapter` against PEFT's own numbers (tests/fixtures/models/*/lora).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSource } from '../../src/hf-io/node-sources';
import { readPeftTensors } from '../../src/peft/import';
import { fixtureDir } from '../helpers/fixture-models';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const name = 'qwen3-tiny';
const loraDir = join(fixtureDir(name), 'lora');
const ref = JSON.parse(readFileSync(join(loraDir, 'lora_reference.json'), 'utf8'));

describe('training CLI', () => {
  it('grad --loss-last K writes PEFT-named gradients equal to PEFT within 1e-3 relative error', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'asp-grad-')), 'grads.safetensors');
    const r = cli(
      'grad',
      '--model',
      fixtureDir(name),
      '--adapter',
      loraDir,
      '--ids',
      ref.input_ids.join(','),
      '--loss-last',
      String(ref.loss_last_k),
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = await readPeftTensors(await nodeFileSource(out));
    const want = await readPeftTensors(await nodeFileSource(join(loraDir, 'grads_last_k.safetensors')));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [tensor, g] of got) {
      const w = want.get(tensor)!;
      expect(g.shape).toEqual(w.shape);
      let diff = 0;
      let scale = 0;
      w.values.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(g.values[i] - v));
        scale = Math.max(scale, Math.abs(v));
      });
      expect(diff / scale, tensor).toBeLessThanOrEqual(1e-3);
    }
  });

  it('logits --adapter applies the PEFT adapter (matches PEFT logits within 1e-4 × std)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'asp-logits-')), 'logits.json');
    const r = cli('logits', '--model', fixtureDir(name), '--adapter', loraDir, '--ids', ref.input_ids.join(','), '--out', out);
    expect(r.code).toBe(0);
    const { logits } = JSON.parse(readFileSync(out, 'utf8')) as { logits: number[][] };
    let maxDiff = 0;
    logits.forEach((row, t) =>
      row.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - ref.logits_with_adapter[t][i]));
      }),
    );
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * ref.logits_with_adapter_std);
  });

  it('a broken adapter gives one line and exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asp-bad-adapter-'));
    cpSync(loraDir, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, r: 8 }));
    const r = cli('grad', '--model', fixtureDir(name), '--adapter', dir, '--ids', '1,2,3', '--loss-last', '2', '--out', join(dir, 'g.safetensors'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // The file holds rank-4 tensors; the config now says r = 8: the first such tensor is named.
    expect(r.stderr).toMatch(/adapter_model\.safetensors: tensor '[^']*lora_A\.weight' has shape \[4, \d+\]; lora_A must be \[r, in\] with r = 8/);
  });
});
