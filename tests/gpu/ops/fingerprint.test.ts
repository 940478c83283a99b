// The buffer fingerprint the prefix cache keys adapter weights by: GPU equals the CPU reference
// bit for bit on odd sizes, and any one changed bit, or swapped buffers, change it.
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../../src/engine/gpu/context';
import { fingerprintBuffers, fingerprintCpu } from '../../../src/engine/ops/fingerprint';
import { getTestDevice } from '../../helpers/gpu';

describe('fingerprint', () => {
  it('matches the CPU reference and changes with any bit, position or buffer order', async () => {
    const ctx = new GpuContext((await getTestDevice()).device);
    const sizes = [1, 257, 1031];
    const data = sizes.map((n, j) => Uint32Array.from({ length: n }, (_, i) => (Math.imul(i + 1, 2654435761) ^ (j << 28)) >>> 0));
    const buffers = data.map((words, j) => {
      const buffer = ctx.createBuffer(`fp${j}`, words.length * 4, 'scratch');
      ctx.write(buffer, words);
      return { buffer, words: words.length };
    });
    const sums = ctx.createBuffer('sums', 8, 'scratch');
    try {
      const reference = fingerprintCpu(data);
      expect(await fingerprintBuffers(ctx, buffers, sums)).toEqual(reference);
      expect(await fingerprintBuffers(ctx, buffers, sums)).toEqual(reference); // the sums are reset each run

      const flipped = data.map((w) => w.slice());
      flipped[1][200] ^= 1 << 7;
      ctx.write(buffers[1].buffer, flipped[1]);
      const changed = await fingerprintBuffers(ctx, buffers, sums);
      expect(changed).toEqual(fingerprintCpu(flipped));
      expect(changed[0]).not.toBe(reference[0]);
      expect(changed[1]).not.toBe(reference[1]);

      ctx.write(buffers[1].buffer, data[1]);
      const swapped = [buffers[0], buffers[2], buffers[1]];
      expect(await fingerprintBuffers(ctx, swapped, sums)).toEqual(fingerprintCpu([data[0], data[2], data[1]]));
      expect(fingerprintCpu([data[0], data[2], data[1]])).not.toEqual(reference);
      // Two equal words at swapped positions: position enters each word's hash.
      expect(fingerprintCpu([Uint32Array.of(5, 9)])).not.toEqual(fingerprintCpu([Uint32Array.of(9, 5)]));
    } finally {
      for (const b of buffers) ctx.destroy(b.buffer);
      ctx.destroy(sums);
    }
  });
});
