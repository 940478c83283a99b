// Fast f32 <-> f16 bit conversions for packing weights. Converting a 151936×896 embedding with a
// log2-based converter takes seconds; this one works on the f32 bit pattern directly.
// Rounding is round-to-nearest-even, like PyTorch's `.half()` and WGSL's pack2x16float.

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f16 bits nearest to an f32 bit pattern (overflow gives ±Infinity, NaN stays NaN). */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Result is an f16 subnormal (a multiple of 2^-24) or zero.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    const halfway = 1 << (shift - 1);
    let rounded = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > halfway || (rest === halfway && (rounded & 1) === 1)) rounded++;
    return sign | rounded;
  }
  // A carry out of the mantissa correctly bumps the exponent (and reaches Infinity at the top).
  let rounded = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (rounded & 1) === 1)) rounded++;
  return sign | rounded;
}

/** f16 bits nearest to a number (via its f32 value). */
export function toF16Bits(value: number): number {
  f32Scratch[0] = value;
  return f32BitsToF16Bits(u32Scratch[0]);
}

let decodeTable: Float32Array | undefined;

/** All 65536 f16 values as f32, built once: decoding is then a table lookup. */
export function f16DecodeTable(): Float32Array {
  if (!decodeTable) {
    decodeTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) {
      const sign = bits & 0x8000 ? -1 : 1;
      const exponent = (bits >> 10) & 0x1f;
      const mantissa = bits & 0x3ff;
      if (exponent === 0) decodeTable[bits] = sign * mantissa * 2 ** -24;
      else if (exponent === 0x1f) decodeTable[bits] = mantissa ? NaN : sign * Infinity;
      else decodeTable[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    }
  }
  return decodeTable;
}

export function f16BitsToF32(bits: number): number {
  return f16DecodeTable()[bits & 0xffff];
}

/**
 * Rounds a number to the nearest f16 value (through f32, as the GPU packs its f32 values): also the
 * CPU mirror of the f16 KV cache (KvCacheCpu).
 */
export function roundToF16(value: number): number {
  return f16BitsToF32(toF16Bits(value));
}
