// The layer rule of issue #11 (item 2), checked on the import graph of src/ (import-graph.ts reads
// every import, export-from, require, dynamic import() and import type node with the TypeScript
// parser). Each violation prints as `file → import`.
//   - src/engine/ imports nothing from training, sandbox, agent, app, worker-api (nor the CLI or
//     server above them), not even types: the engine is the bottom GPU layer.
//   - src/sandbox/ imports nothing from the engine, training, app, agent, worker-api, CLI or
//     server: it is the GPU-free environment the server, the CLI and the trainer all use.
//   - src/app/ (the UI) imports engine and training code only as types, or from the modules listed
//     in APP_MAY_IMPORT below (GPU-free size tables and storage); the worker owns the GPU.
//   - src/checkpoints/ (IndexedDB storage) and src/peft/ (PEFT adapter files) hold no GPU code, so
//     the UI uses them directly: they import nothing from the engine (but its list of LoRA target
//     modules), training, agent, app, worker-api, CLI or server.
//   - no import cycle anywhere in src/, type-only imports included.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cyclesOf, importsOf, sourceFiles, type ImportEdge } from './import-graph';

const ROOT = process.cwd();
const edges = sourceFiles(`${ROOT}/src`).flatMap((f) => importsOf(f, ROOT));
const layerOf = (path: string) => (path.startsWith('src/') ? path.split('/')[1] : null);

/**
 * Engine or training modules the UI may import as values, each GPU-free, with why. A new entry
 * needs the same argument; GPU code (buffers, pipelines, the device) never belongs here.
 */
const APP_MAY_IMPORT: Record<string, string> = {
  'src/engine/model/buffer-plan.ts': "size table: every buffer the engine allocates, by name and bytes (the Model tab's memory estimate)",
  'src/training/model/train-plan.ts': "size table: every buffer a GRPO step adds, by name and bytes (the Train tab's training memory)",
};

function violations(fromLayer: string, forbidden: readonly string[], allowed: (e: ImportEdge) => boolean = () => false): string[] {
  return edges
    .filter((e) => layerOf(e.from) === fromLayer && forbidden.includes(layerOf(e.to) ?? '') && !allowed(e))
    .map((e) => `${e.from} → ${e.to}${e.typeOnly ? ' (type only)' : ''}`);
}

describe('layers (issue #11)', () => {
  it('reads the import graph (the rule is not vacuous)', () => {
    expect(edges.length).toBeGreaterThan(500);
    // Known edges of each kind are seen: a value import, a type-only import, an export-from.
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/engine/model/forward.ts', to: 'src/engine/ops/lora.ts', typeOnly: false }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/engine/model/forward.ts', to: 'src/engine/model/lora-view.ts', typeOnly: true }));
    expect(edges).toContainEqual(expect.objectContaining({ from: 'src/sandbox/agent-loop.ts', to: 'src/sandbox/episode-types.ts' }));
  });

  it('the reader tells type-only imports from value imports, and finds cycles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asp-layers-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src/b.ts'), 'export type T = number; export const v = 1;');
      writeFileSync(
        join(dir, 'src/a.ts'),
        [
          "import type { T } from './b';",
          "import { type T as U } from './b';",
          "import { v } from './b';",
          "import './b';",
          "export type { T as W } from './b';",
          "export * from './b';",
          "const m = import('./b');",
          "let x: import('./b').T;",
        ].join('\n'),
      );
      const got = importsOf(join(dir, 'src/a.ts'), dir).map((e) => [e.to, e.typeOnly]);
      expect(got).toEqual([
        ['src/b.ts', true],
        ['src/b.ts', true],
        ['src/b.ts', false],
        ['src/b.ts', false],
        ['src/b.ts', true],
        ['src/b.ts', false],
        ['src/b.ts', false],
        ['src/b.ts', true],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const e = (from: string, to: string): ImportEdge => ({ from, to, spec: to, typeOnly: true });
    expect(cyclesOf([e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd')])).toEqual([['a', 'b', 'c', 'a']]);
    expect(cyclesOf([e('a', 'b'), e('b', 'c'), e('a', 'c')])).toEqual([]);
  });

  it('the engine imports nothing from training, sandbox, agent, app, worker-api, CLI or server', () => {
    expect(violations('engine', ['training', 'sandbox', 'agent', 'app', 'worker-api', 'cli', 'server'])).toEqual([]);
  });

  it('the sandbox imports nothing from engine, training, app, agent, worker-api, CLI or server', () => {
    expect(violations('sandbox', ['engine', 'training', 'app', 'agent', 'worker-api', 'cli', 'server'])).toEqual([]);
  });

  it('the app imports engine and training code only as types or from the listed GPU-free modules', () => {
    expect(violations('app', ['engine', 'training'], (e) => e.typeOnly || e.to in APP_MAY_IMPORT)).toEqual([]);
    // Every listed module exists and is still used (a stale entry would widen the rule silently).
    for (const m of Object.keys(APP_MAY_IMPORT))
      expect(
        edges.some((e) => layerOf(e.from) === 'app' && e.to === m && !e.typeOnly),
        m,
      ).toBe(true);
  });

  it('checkpoint storage and the PEFT files are GPU-free: no engine (but the LoRA target names), training, agent, app, worker-api, CLI or server', () => {
    const above = ['engine', 'training', 'agent', 'app', 'worker-api', 'cli', 'server'];
    const loraTargetNames = (e: ImportEdge) => e.to === 'src/engine/ops/lora-targets.ts';
    expect([...violations('checkpoints', above), ...violations('peft', above, loraTargetNames)]).toEqual([]);
    // The rule is not vacuous: both folders are read, and the UI imports them.
    expect(edges.some((e) => e.from === 'src/peft/import.ts' && e.to === 'src/engine/ops/lora-targets.ts')).toBe(true);
    expect(edges.some((e) => layerOf(e.from) === 'app' && layerOf(e.to) === 'checkpoints' && !e.typeOnly)).toBe(true);
  });

  it('no import cycles in src/ (type-only imports included)', () => {
    expect(cyclesOf(edges).map((c) => c.join(' → '))).toEqual([]);
  });
});
