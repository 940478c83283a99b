// The quantized-weight cache's keys and entries on the CPU: content-addressed keys, exact
// round trips, and every kind of damaged entry rejected with its reason (never returned).
import { describe, expect, it } from 'vitest';
import { MemoryByteCache } from '../../src/hf-io/cache';
import { readAll } from '../../src/hf-io/byte-source';
import { packWeight } from '../../src/engine/quant/pack';
import { PACKED_WEIGHTS_VERSION, type PackedWeight } from '../../src/engine/quant/formats';
import { decodeEntry, encodeEntry, isCachedFormat, WeightCache, type SourceTensor } from '../../src/engine/quant/weight-cache';

function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return out;
}

// 5 rows × 72 columns: rows padded to 96 columns, and 15 scales (an odd count: the last word is half padding).
const ROWS = 5;
const COLS = 72;
const source = (name: string, seed: number): SourceTensor => {
  const values = randomValues(ROWS * COLS, seed);
  return { name, dtype: 'F32', shape: [ROWS, COLS], bytes: new Uint8Array(values.buffer) };
};

async function entryBytes(key: string, packed: PackedWeight): Promise<Uint8Array> {
  return new Uint8Array(await (await encodeEntry(key, packed)).arrayBuffer());
}

describe('quantized-weight cache', () => {
  it('caches q8 and q4 only (f32 is the exact path, f16 a cheap conversion)', () => {
    expect(['f32', 'f16', 'q8', 'q4'].filter((f) => isCachedFormat(f as never))).toEqual(['q8', 'q4']);
  });

  it('keys depend on every source byte, dtype, shape, format and weight name, and carry the layout version', async () => {
    const cache = new WeightCache(new MemoryByteCache());
    const a = source('w', 1);
    const base = await cache.key('q4', 'w', ROWS, COLS, [a]);
    expect(await cache.key('q4', 'w', ROWS, COLS, [{ ...a, bytes: a.bytes.slice() }])).toBe(base);
    expect(base).toContain(`/v${PACKED_WEIGHTS_VERSION}/q4/`);
    const flipped = a.bytes.slice();
    flipped[123] ^= 1;
    const variants = [
      await cache.key('q4', 'w', ROWS, COLS, [{ ...a, bytes: flipped }]),
      await cache.key('q8', 'w', ROWS, COLS, [a]),
      await cache.key('q4', 'other', ROWS, COLS, [a]),
      await cache.key('q4', 'w', ROWS, COLS, [{ ...a, dtype: 'BF16' }]),
      await cache.key('q4', 'w', COLS, ROWS, [{ ...a, shape: [COLS, ROWS] }]),
      await cache.key('q4', 'w', ROWS, COLS, [{ ...a, name: 'renamed' }]),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it.each(['q8', 'q4'] as const)('round-trips a %s weight exactly through a store', async (format) => {
    const store = new MemoryByteCache();
    const cache = new WeightCache(store);
    const packed = packWeight(randomValues(ROWS * COLS, 7), ROWS, COLS, format);
    const key = await cache.key(format, 'w', ROWS, COLS, [source('w', 7)]);
    expect(await cache.get(key, format, ROWS, COLS)).toBeUndefined();
    await cache.put(key, packed);
    const back = await cache.get(key, format, ROWS, COLS);
    expect(back).toBeDefined();
    expect(Array.from(back!.data)).toEqual(Array.from(packed.data));
    expect(Array.from(back!.scales!)).toEqual(Array.from(packed.scales!));
    expect(cache.stats).toEqual({ hits: 1, misses: 1, rejected: [], storeFailures: [] });
  });

  it('reads an entry whose payload is not 4-byte aligned in memory', async () => {
    const packed = packWeight(randomValues(ROWS * COLS, 3), ROWS, COLS, 'q4');
    const bytes = await entryBytes('k', packed);
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    const back = await decodeEntry(shifted, 'k', 'q4', ROWS, COLS);
    expect(Array.from(back.data)).toEqual(Array.from(packed.data));
  });

  it('rejects damaged, misfiled and mismatched entries with the reason', async () => {
    const packed = packWeight(randomValues(ROWS * COLS, 5), ROWS, COLS, 'q4');
    const good = await entryBytes('k', packed);
    const headerEnd = 8 + new DataView(good.buffer).getUint32(4, true);
    const flip = (at: number) => {
      const b = good.slice();
      b[at] ^= 0x10;
      return b;
    };
    const rejects = async (bytes: Uint8Array, reason: RegExp, key = 'k', format: 'q4' | 'q8' = 'q4', rows = ROWS, cols = COLS) =>
      expect(decodeEntry(bytes, key, format, rows, cols)).rejects.toThrow(reason);
    await rejects(good.subarray(0, good.byteLength - 3), /bytes, expected/);
    await rejects(good.subarray(0, 20), /truncated header/);
    await rejects(new Uint8Array(0), /not a packed-weight entry/);
    await rejects(flip(0), /not a packed-weight entry/);
    await rejects(flip(headerEnd + 4), /data hash mismatch/);
    await rejects(flip(good.byteLength - 1), /scales hash mismatch/);
    await rejects(flip(12), /unreadable header|header \w+ is/);
    await rejects(new Uint8Array([...good, 0, 0, 0, 0]), /bytes, expected/);
    await rejects(good, /header key/, 'another key');
    await rejects(good, /header format/, 'k', 'q8');
    await rejects(good, /header rows/, 'k', 'q4', ROWS + 1);
    const text = new TextDecoder().decode(good.subarray(8, headerEnd));
    const otherVersion = good.slice();
    otherVersion.set(new TextEncoder().encode(text.replace(`"version":${PACKED_WEIGHTS_VERSION},`, '"version":9,')), 8);
    await rejects(otherVersion, /header version is 9/);
  });

  it('treats a corrupted stored entry as a miss and records why; put overwrites it', async () => {
    const store = new MemoryByteCache();
    const cache = new WeightCache(store);
    const packed = packWeight(randomValues(ROWS * COLS, 9), ROWS, COLS, 'q8');
    await cache.put('k', packed);
    const bytes = (await readAll((await store.get('k'))!)).slice();
    bytes[bytes.byteLength - 10] ^= 1;
    await store.put('k', new Blob([bytes]));
    expect(await cache.get('k', 'q8', ROWS, COLS)).toBeUndefined();
    expect(cache.stats.rejected).toEqual([expect.stringMatching(/^k: .*hash mismatch/)]);
    await cache.put('k', packed);
    expect(Array.from((await cache.get('k', 'q8', ROWS, COLS))!.data)).toEqual(Array.from(packed.data));
  });

  it('a store that fails to write is recorded, not thrown', async () => {
    const store = new MemoryByteCache();
    store.put = async () => {
      throw new Error('QuotaExceededError');
    };
    const cache = new WeightCache(store);
    await cache.put('k', packWeight(randomValues(ROWS * COLS, 2), ROWS, COLS, 'q4'));
    expect(cache.stats.storeFailures).toEqual(['k: QuotaExceededError']);
  });
});
