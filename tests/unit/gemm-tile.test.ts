// The 4×4 register-tiled GEMM loop is written once (src/engine/ops/gemm-tile.ts) and the three
// tiled matmuls are built from it; their numbers are tested against CPU references in
// tests/gpu/ops/matmul*.test.ts, tests/gpu/training/ops/{lora,matmul-backward}.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gemmTileGroups, gemmTileWgsl } from '../../src/engine/ops/gemm-tile';
import { LORA_GEMM_WGSL } from '../../src/engine/ops/lora-gemm';
import { tiledWgsl } from '../../src/engine/ops/matmul-tiled';
import { matmulBackwardWgsl } from '../../src/training/ops/matmul-backward';

const RANK1_UPDATE = 'acc[0] += a.x * b;';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the shared GEMM tile loop', () => {
  it('is the only place in src/ that writes the rank-1 update', () => {
    const writers = sources('src').filter((path) => readFileSync(path, 'utf8').includes(RANK1_UPDATE));
    expect(writers.map((p) => p.replaceAll('\\', '/'))).toEqual(['src/engine/ops/gemm-tile.ts']);
  });

  it('is in the forward, LoRA and backward kernels, once each', () => {
    const shape = { format: 'q4', k: 100, n: 67, hasBias: true, accumulate: false, indexedRows: false, shaderF16: false } as const;
    for (const wgsl of [tiledWgsl(shape), LORA_GEMM_WGSL, matmulBackwardWgsl('q8', 100, false)]) {
      expect(wgsl.split(RANK1_UPDATE).length).toBe(2);
      expect(wgsl.split('@compute @workgroup_size(16, 16)').length).toBe(2);
    }
  });

  it('stages B along k or along n as asked, and dispatches one workgroup per 64×64 tile', () => {
    const spec = { m: 'M', n: 'N', k: 'K', loadA: 'quad = A_QUAD;', store: 'STORE;' };
    const alongK = gemmTileWgsl({ ...spec, loadB: { along: 'k', code: 'quad = B_QUAD;' } });
    const alongN = gemmTileWgsl({ ...spec, loadB: { along: 'n', code: 'quad = B_QUAD;' } });
    expect(alongK).toContain('if (b_col < N)');
    expect(alongN).toContain('if (b_k < K)');
    expect(alongN).toContain('b_tile[t] = quad;');
    expect(gemmTileGroups(65, 64)).toEqual([1, 2]);
    expect(gemmTileGroups(1, 129)).toEqual([3, 1]);
  });
});
