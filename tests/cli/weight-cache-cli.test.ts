// The CLI keeps quantized weights in a folder between runs: the second q4 run reads the entries
// (it does not rewrite them) and prints the same logits; ASP_WEIGHT_CACHE_DIR=off writes nothing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir } from '../helpers/fixture-models';

function logits(env: Record<string, string | undefined>, out: string) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'logits', '--model', fixtureDir('qwen2-tiny-gqa'), '--ids', '3,17,42', '--quant', 'q4', '--out', out],
    {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, ASP_WEIGHT_CACHE_DIR: undefined, ...env },
    },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8');
}

describe('CLI quantized-weight cache folder', () => {
  it('a second q4 run reuses the stored entries under $XDG_CACHE_HOME and prints identical logits; "off" stores nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'asp-cli-weight-cache-'));
    const xdg = join(root, 'xdg');
    const dir = join(xdg, 'agent-safety-playground', 'quantized-weights');
    const entries = () =>
      readdirSync(dir)
        .filter((f) => /^[0-9a-f]{64}$/.test(f))
        .map((f) => [f, statSync(join(dir, f)).mtimeMs] as const);
    try {
      const first = logits({ XDG_CACHE_HOME: xdg }, join(root, 'first.json'));
      const stored = entries();
      expect(stored.length).toBeGreaterThan(0);
      const second = logits({ XDG_CACHE_HOME: xdg }, join(root, 'second.json'));
      expect(second).toBe(first);
      expect(entries()).toEqual(stored); // same files, untouched: read, not quantized and rewritten

      const xdgOff = join(root, 'xdg-off');
      expect(logits({ XDG_CACHE_HOME: xdgOff, ASP_WEIGHT_CACHE_DIR: 'off' }, join(root, 'off.json'))).toBe(first);
      expect(existsSync(xdgOff) || existsSync('off')).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
