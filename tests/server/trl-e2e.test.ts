// End to end with TRL: the environment server (in this process), TRL's GRPOTrainer for 2 steps on
// a tiny random Qwen2 with a PEFT LoRA on CPU (python/examples/train_grpo.py, rollout_func playing
// episodes over /ws, reward from the server), the adapter TRL saved imported with our PEFT
// importer, and our logits with it equal to PEFT's within 1e-4 × std.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../models/make-tiny-model';
import { nodeFileSource } from '../../src/hf-io/node-sources';
import { generateScenarios } from '../../src/sandbox/scenarios/generator';
import { startEnvServer, type EnvServer } from '../../src/server/env-server';
import { importPeftAdapter } from '../../src/peft/import';
import { ensurePythonEnv, PYTHON } from './python-env';

let server: EnvServer;
const work = mkdtempSync(join(tmpdir(), 'asp-trl-e2e-'));
const modelDir = join(work, 'tiny-qwen2');
const outDir = join(work, 'adapter');
const CHECK_IDS = [151644, 872, 198, 9707, 151645, 198, 151644, 77091];

beforeAll(async () => {
  ensurePythonEnv();
  await writeTinyModel({ arch: 'qwen2', vocab: 'real', layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128 }, modelDir);
  server = await startEnvServer({ scenarios: generateScenarios({ split: 'train', count: 18 }), source: 'builtin:train (18)', limits: { maxTurns: 3 } });
}, 1_800_000);
afterAll(async () => {
  await server?.close();
});

function runPython(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, args, { env: { ...process.env, TRL_EXPERIMENTAL_SILENCE: '1', OMP_NUM_THREADS: '2', HF_HUB_OFFLINE: '1' } });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('TRL GRPOTrainer against the environment server', () => {
  it('rollout_func assembles a multi-turn episode (tool error, <tool_check>, answer) exactly as the chat template renders it', async () => {
    const scenario = generateScenarios({ split: 'train', count: 18 }).find((s) => s.cell[0] === 'S')!;
    const r = await runPython(
      ['python/tests/check_multiturn_rollout.py', modelDir, `http://127.0.0.1:${server.port}`, scenario.id, scenario.tools[0]],
      120_000,
    );
    expect(r.code, `${r.stdout}\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(r.stdout).toContain("'ok': True");
  }, 200_000);

  it('trains 2 steps, and the saved adapter gives the same logits in our engine as in PEFT', async () => {
    const checkOut = join(work, 'peft-logits.json');
    const r = await runPython(
      [
        'python/examples/train_grpo.py',
        '--model',
        modelDir,
        '--env-url',
        `http://127.0.0.1:${server.port}`,
        '--out',
        outDir,
        '--steps',
        '2',
        '--num-generations',
        '2',
        '--prompts-per-step',
        '1',
        '--lr',
        '1e-2',
        '--max-new-tokens',
        '16',
        '--max-context',
        '2048',
        '--lora-r',
        '4',
        '--lora-alpha',
        '8',
        '--lora-init',
        'random',
        '--cpu',
        '--check-ids',
        CHECK_IDS.join(','),
        '--check-out',
        checkOut,
      ],
      300_000,
    );
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ steps: 2, episodes: 4 });

    // Every episode was played on the server and scored by it (ids from its suite, an end reason).
    const { episodes, log_history: history } = JSON.parse(readFileSync(join(outDir, 'episodes.json'), 'utf8'));
    for (const e of episodes) {
      expect(e.scenario_id).toMatch(/^train-/);
      expect(['final_answer', 'max_turns']).toContain(e.end_reason);
      expect(e.sampled_tokens).toBeGreaterThan(0);
    }
    const steps = history.filter((h: Record<string, unknown>) => 'loss' in h);
    expect(steps).toHaveLength(2);
    for (const s of steps) expect(Number.isFinite(Number(s.loss))).toBe(true);

    // The adapter TRL saved, through our importer (names, shapes, rank, alpha, targets checked).
    const { config, tensors } = await importPeftAdapter({
      config: readFileSync(join(outDir, 'adapter_config.json')),
      weights: await nodeFileSource(join(outDir, 'adapter_model.safetensors')),
    });
    expect(config.rank).toBe(4);
    expect(new Set(config.targets)).toEqual(new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']));
    expect(tensors.size).toBe(2 * 7 * 2);

    // Our logits with that adapter (the CLI path) against PEFT's, on a chat-shaped id sequence.
    const ours = join(work, 'our-logits.json');
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'logits', '--model', modelDir, '--adapter', outDir, '--ids', CHECK_IDS.join(','), '--out', ours],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const want = JSON.parse(readFileSync(checkOut, 'utf8')) as { logits: number[][]; std: number };
    const got = (JSON.parse(readFileSync(ours, 'utf8')) as { logits: number[][] }).logits;
    expect(got.length).toBe(CHECK_IDS.length);
    let maxDiff = 0;
    got.forEach((row, t) =>
      row.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - want.logits[t][i]));
      }),
    );
    expect(want.std).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * want.std);
  }, 900_000);
});
