// CPU packing (quantization) and unpacking (dequantization) of weights in the formats of
// formats.ts. Input and output values are row-major [rows, cols] Float32Arrays.
import { f16BitsToF32, f16DecodeTable, f32BitsToF16Bits, toF16Bits } from './f16-bits';
import { dataWordsPerRow, GROUP_SIZE, groupsPerRow, hasScales, paddedCols, scaleWordsFor, type PackedWeight, type WeightFormat } from './formats';

const Q8_MAX = 127;
const Q4_MAX = 7; // symmetric range −7..7, stored with offset 7 (MLC's max_int_value for int4)

/** Round half to even, as numpy / TVM round; keeps quantization unbiased on ties. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkShape(values: Float32Array, rows: number, cols: number, name: string) {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`${name}: shape [${rows}, ${cols}] is not a positive 2-D shape`);
  }
  if (values.length !== rows * cols) throw new Error(`${name}: ${values.length} values do not fill shape [${rows}, ${cols}]`);
}

function checkFinite(value: number, name: string, row: number, col: number) {
  if (!Number.isFinite(value)) throw new Error(`${name}: element [${row}, ${col}] is ${value}; weights must be finite to quantize`);
}

/** Packs f32 values into `format`. `name` (e.g. the tensor name) appears in error messages. */
export function packWeight(values: Float32Array, rows: number, cols: number, format: WeightFormat, name = 'weight'): PackedWeight {
  checkShape(values, rows, cols, name);
  switch (format) {
    case 'f32':
      return packF32(values, rows, cols);
    case 'f16':
      return packF16(values, rows, cols);
    case 'q8':
      return packGrouped(values, rows, cols, 'q8', name);
    case 'q4':
      return packGrouped(values, rows, cols, 'q4', name);
  }
}

function packF32(values: Float32Array, rows: number, cols: number): PackedWeight {
  const stride = paddedCols(cols);
  const out = new Float32Array(rows * stride);
  if (stride === cols) out.set(values);
  else for (let r = 0; r < rows; r++) out.set(values.subarray(r * cols, (r + 1) * cols), r * stride);
  return { format: 'f32', rows, cols, data: new Uint32Array(out.buffer), scales: null };
}

function packF16(values: Float32Array, rows: number, cols: number): PackedWeight {
  const stride = paddedCols(cols);
  const halves = new Uint16Array(rows * stride);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) halves[r * stride + c] = f32BitsToF16Bits(bits[r * cols + c]);
  }
  // Little-endian: halves 2i and 2i+1 land in the low and high 16 bits of word i.
  return { format: 'f16', rows, cols, data: new Uint32Array(halves.buffer), scales: null };
}

/** Symmetric group quantization shared by q8 and q4 (they differ in range, offset and packing). */
function packGrouped(values: Float32Array, rows: number, cols: number, format: 'q8' | 'q4', name: string): PackedWeight {
  const groups = groupsPerRow(cols);
  const wordsPerRow = dataWordsPerRow(format, cols);
  const data = new Uint32Array(rows * wordsPerRow);
  const scaleHalves = new Uint16Array(scaleWordsFor(rows, cols) * 2);
  const qMax = format === 'q8' ? Q8_MAX : Q4_MAX;
  const perWord = format === 'q8' ? 4 : 8;
  const bits = 32 / perWord;
  const mask = (1 << bits) - 1;
  const offset = format === 'q8' ? 0 : Q4_MAX; // q4 stores q + 7; q8 stores two's complement bytes
  for (let r = 0; r < rows; r++) {
    const rowBase = r * cols;
    for (let g = 0; g < groups; g++) {
      const start = rowBase + g * GROUP_SIZE;
      const end = rowBase + Math.min((g + 1) * GROUP_SIZE, cols);
      let maxAbs = 0;
      for (let i = start; i < end; i++) {
        const a = Math.abs(values[i]);
        if (a > maxAbs) maxAbs = a;
        else if (!(a <= maxAbs)) {
          maxAbs = NaN;
          break;
        } // NaN: reported below
      }
      if (!Number.isFinite(maxAbs)) {
        const bad = values.subarray(start, end).findIndex((v) => !Number.isFinite(v));
        checkFinite(values[start + bad], name, r, g * GROUP_SIZE + bad);
      }
      // The scale is stored as f16; quantize against the stored (rounded) scale so that
      // dequantization reproduces exactly what the quantizer intended.
      const scaleBits = toF16Bits(maxAbs / qMax);
      const scale = f16BitsToF32(scaleBits);
      if (!Number.isFinite(scale)) throw new Error(`${name}: row ${r} group ${g} has max |x| = ${maxAbs}, too large for an f16 scale`);
      scaleHalves[r * groups + g] = scaleBits;
      // Columns past `end` (row padding) quantize to 0, stored as `offset`.
      const wordBase = r * wordsPerRow + g * (GROUP_SIZE / perWord);
      for (let w = 0; w < GROUP_SIZE / perWord; w++) {
        let word = 0;
        for (let j = 0; j < perWord; j++) {
          const i = start + w * perWord + j;
          let q = 0;
          if (i < end && scale !== 0) {
            q = roundHalfEven(values[i] / scale);
            q = q > qMax ? qMax : q < -qMax ? -qMax : q;
          }
          word |= ((q + offset) & mask) << (bits * j);
        }
        data[wordBase + w] = word >>> 0;
      }
    }
  }
  return { format, rows, cols, data, scales: new Uint32Array(scaleHalves.buffer) };
}

/** Dequantizes a packed weight back to f32 values [rows, cols] (padding dropped). */
export function unpackWeight(packed: PackedWeight): Float32Array {
  const { format, rows, cols, data } = packed;
  const out = new Float32Array(rows * cols);
  const wordsPerRow = dataWordsPerRow(format, cols);
  if (data.length < rows * wordsPerRow) throw new Error(`unpackWeight: ${format} data has ${data.length} words, needs ${rows * wordsPerRow}`);
  if (format === 'f32') {
    const floats = new Float32Array(data.buffer, data.byteOffset, data.length);
    for (let r = 0; r < rows; r++) out.set(floats.subarray(r * wordsPerRow, r * wordsPerRow + cols), r * cols);
    return out;
  }
  const table = f16DecodeTable();
  if (format === 'f16') {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const word = data[r * wordsPerRow + (c >> 1)];
        out[r * cols + c] = table[c & 1 ? word >>> 16 : word & 0xffff];
      }
    }
    return out;
  }
  if (!hasScales(format) || !packed.scales) throw new Error(`unpackWeight: ${format} weight has no scales`);
  const groups = groupsPerRow(cols);
  if (packed.scales.length < scaleWordsFor(rows, cols))
    throw new Error(`unpackWeight: ${format} scales have ${packed.scales.length} words, need ${scaleWordsFor(rows, cols)}`);
  const scales = packed.scales;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = r * groups + Math.floor(c / GROUP_SIZE);
      const scaleWord = scales[s >> 1];
      const scale = table[s & 1 ? scaleWord >>> 16 : scaleWord & 0xffff];
      let q: number;
      if (format === 'q8') {
        const word = data[r * wordsPerRow + (c >> 2)];
        q = ((word >>> (8 * (c & 3))) << 24) >> 24; // sign-extend the byte
      } else {
        const word = data[r * wordsPerRow + (c >> 3)];
        q = ((word >>> (4 * (c & 7))) & 0xf) - Q4_MAX;
      }
      out[r * cols + c] = q * scale;
    }
  }
  return out;
}
