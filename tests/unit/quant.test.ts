import { describe, expect, it } from 'vitest';
import { numberToF16Bits } from '../../src/hf-io/dtypes';
import { f32BitsToF16Bits, toF16Bits } from '../../src/engine/quant/f16-bits';
import { bytesPerElement, dataWordsPerRow, GROUP_SIZE, scaleWordsFor, WEIGHT_FORMATS, type WeightFormat } from '../../src/engine/quant/formats';
import { packWeight, unpackWeight } from '../../src/engine/quant/pack';
import { maxAbsDiff, nmse, randomArray, seededRandom } from '../helpers/numeric';

function halfAt(words: Uint32Array, index: number): number {
  const word = words[index >> 1];
  return index & 1 ? word >>> 16 : word & 0xffff;
}

describe('f16 conversion', () => {
  it('matches the reference converter on edge cases and random values', () => {
    const f32 = new Float32Array(1);
    const bits = new Uint32Array(f32.buffer);
    const edges = [
      0,
      -0,
      1,
      -1,
      65504,
      65519,
      65520,
      1e6,
      -1e6,
      2 ** -14,
      2 ** -24,
      2 ** -25,
      1.5 * 2 ** -25,
      2 ** -26,
      3 * 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      0.1,
      1 / 3,
      Infinity,
      -Infinity,
    ];
    const rand = seededRandom(7);
    const values = [...edges];
    for (let i = 0; i < 20000; i++) values.push((rand() * 2 - 1) * 2 ** Math.floor(rand() * 44 - 28));
    for (const v of values) {
      f32[0] = v;
      expect(f32BitsToF16Bits(bits[0]), `value ${f32[0]}`).toBe(numberToF16Bits(f32[0]));
    }
    expect(toF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(toF16Bits(NaN) & 0x3ff).not.toBe(0);
  });
});

describe('packed weight layout', () => {
  it('packs q4 nibbles least-significant first with offset 7 and an f16 scale of max|x|/7', () => {
    // One row, one group: x = (j − 7)·0.5 for j = 0..14, then zeros → q = j for the first 15.
    const x = new Float32Array(32);
    for (let j = 0; j < 15; j++) x[j] = (j - 7) * 0.5;
    const packed = packWeight(x, 1, 32, 'q4');
    expect(halfAt(packed.scales!, 0)).toBe(numberToF16Bits(0.5)); // max|x| = 3.5, /7 = 0.5
    expect(packed.data[0]).toBe(0x76543210);
    expect(packed.data[1]).toBe(0x7edcba98);
    expect(packed.data[2]).toBe(0x77777777);
    expect(packed.data[3]).toBe(0x77777777);
    expect(Array.from(unpackWeight(packed))).toEqual(Array.from(x));
  });

  it("packs q8 as two's complement bytes least-significant first with scale max|x|/127", () => {
    const x = new Float32Array(32);
    x[0] = 127 * 0.25;
    x[1] = -1 * 0.25;
    x[2] = 2 * 0.25;
    x[3] = -127 * 0.25;
    x[4] = 5 * 0.25;
    const packed = packWeight(x, 1, 32, 'q8');
    expect(halfAt(packed.scales!, 0)).toBe(numberToF16Bits(0.25));
    expect(packed.data[0]).toBe(0x8102ff7f);
    expect(packed.data[1]).toBe(0x00000005);
    expect(Array.from(unpackWeight(packed))).toEqual(Array.from(x));
  });

  it('packs f16 two per word, even element in the low half, rows padded to 32', () => {
    const x = new Float32Array([1, -2, 0.5, 3, 4]); // rows 1, cols 5 → padded to 32 columns
    const packed = packWeight(x, 1, 5, 'f16');
    expect(packed.data.length).toBe(16);
    expect(packed.data[0]).toBe(((numberToF16Bits(-2) << 16) | numberToF16Bits(1)) >>> 0);
    expect(packed.data[2]).toBe(numberToF16Bits(4));
    expect(packed.data[3]).toBe(0);
    expect(Array.from(unpackWeight(packed))).toEqual(Array.from(x));
  });

  it('gives all-zero groups a zero scale and exact zeros back', () => {
    const x = new Float32Array(3 * 40); // zero everywhere except one group
    x[45] = 1.25;
    for (const format of ['q8', 'q4'] as const) {
      const packed = packWeight(x, 3, 40, format);
      expect(halfAt(packed.scales!, 0)).toBe(0);
      const back = unpackWeight(packed);
      expect(
        back.every((v, i) => (i === 45 ? v !== 0 : v === 0)),
        format,
      ).toBe(true);
      expect(Math.abs(back[45] - 1.25)).toBeLessThan(1e-3);
    }
  });

  it('sizes rows and scales by padded groups for odd K', () => {
    for (const format of WEIGHT_FORMATS) {
      const packed = packWeight(randomArray(3 * 100, 1), 3, 100, format);
      expect(packed.data.length).toBe(3 * dataWordsPerRow(format, 100));
      if (packed.scales) expect(packed.scales.length).toBe(scaleWordsFor(3, 100)); // 12 scales → 6 words
    }
    // K = 100 pads to 128 columns = 4 groups.
    expect(WEIGHT_FORMATS.map((f) => dataWordsPerRow(f, 100))).toEqual([128, 64, 32, 16]);
    expect(scaleWordsFor(3, 100)).toBe(6);
    expect(WEIGHT_FORMATS.map(bytesPerElement)).toEqual([4, 2, 1 + 2 / 32, 0.5 + 2 / 32]);
    expect(GROUP_SIZE).toBe(32);
  });
});

describe('quantization round trip', () => {
  // Bounds: per element |x − deq(x)| ≤ step/2 (rounding to the nearest level, step = max|x|/levels)
  // plus the f16 rounding of the scale (relative 2^-11, times up to 127 levels: ≤ max|x|·2^-10).
  // For uniform data in [−a, a], NMSE ≈ (step²/12)/(a²/3) = 1/(4·levels²): q8 1.6e-5 (bound 1e-4),
  // q4 5.1e-3 (bound 1.5e-2). f16 keeps 11 significant bits: NMSE ~ 1e-7 (bound 1e-6).
  const cases: [WeightFormat, number][] = [
    ['f32', 0],
    ['f16', 1e-6],
    ['q8', 1e-4],
    ['q4', 1.5e-2],
  ];
  it.each(cases)('%s stays within its NMSE bound %f on odd shapes', (format, bound) => {
    for (const [rows, cols] of [
      [1, 32],
      [5, 100],
      [7, 161],
      [3, 1],
    ]) {
      const x = randomArray(rows * cols, rows * 1000 + cols, 0.7);
      const back = unpackWeight(packWeight(x, rows, cols, format));
      expect(back.length).toBe(x.length);
      const error = nmse(back, x);
      if (format === 'f32') expect(maxAbsDiff(back, x)).toBe(0);
      else expect(error, `${rows}×${cols}`).toBeLessThan(bound);
      if (format === 'q8' || format === 'q4') {
        // Element-wise bound: half a quantization step of the element's group (+ f16 scale rounding).
        const levels = format === 'q8' ? 127 : 7;
        for (let r = 0; r < rows; r++) {
          for (let g = 0; g * 32 < cols; g++) {
            const group = x.subarray(r * cols + g * 32, r * cols + Math.min(cols, g * 32 + 32));
            const maxAbs = group.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            const step = maxAbs / levels;
            for (let c = 0; c < group.length; c++) {
              const i = r * cols + g * 32 + c;
              expect(Math.abs(back[i] - x[i])).toBeLessThanOrEqual(step / 2 + maxAbs * 2 ** -10);
            }
          }
        }
      }
    }
  });

  it('rejects non-finite weights and bad shapes with messages naming the tensor', () => {
    const x = randomArray(64, 3);
    x[40] = NaN;
    expect(() => packWeight(x, 2, 32, 'q4', 'model.layers.0.mlp.up_proj.weight')).toThrow(/up_proj\.weight: element \[1, 8\] is NaN/);
    expect(() => packWeight(randomArray(10, 1), 3, 4, 'f16', 'w')).toThrow(/w: 10 values do not fill shape \[3, 4\]/);
    expect(() => packWeight(new Float32Array([1e9]), 1, 1, 'q8', 'big')).toThrow(/big: row 0 group 0/);
  });
});
