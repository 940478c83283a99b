// Element types that safetensors checkpoints of the supported models use, and their conversion
// to float32. Conversions are exact: every f16 and bf16 value is representable in f32.

export type TensorDtype = 'F32' | 'F16' | 'BF16';

export const DTYPE_BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function isTensorDtype(value: unknown): value is TensorDtype {
  return value === 'F32' || value === 'F16' || value === 'BF16';
}

/** IEEE 754 half (1 sign, 5 exponent, 10 mantissa bits) to a JS number. */
export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Nearest f16 bits (round half to even) for a number; overflow gives ±Infinity. */
export function numberToF16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs === Infinity) return sign | 0x7c00;
  if (abs < 2 ** -14) {
    // Subnormal range: a multiple of 2^-24.
    return sign | roundHalfEven(abs / 2 ** -24);
  }
  let exponent = Math.floor(Math.log2(abs));
  if (2 ** exponent > abs) exponent -= 1; // guard log2 rounding
  if (2 ** (exponent + 1) <= abs) exponent += 1;
  let mantissa = roundHalfEven((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac > 0.5) return floor + 1;
  if (frac < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Nearest bf16 bits (round half to even on the dropped 16 bits), as PyTorch does. */
export function numberToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0];
  if (Number.isNaN(f32Scratch[0])) return 0x7fc0;
  const rounded = bits + 0x7fff + ((bits >> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** Decodes little-endian tensor bytes of the given dtype into a new Float32Array. */
export function toFloat32(bytes: Uint8Array, dtype: TensorDtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = f16BitsToNumber(view.getUint16(i * 2, true));
  } else {
    const words = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) words[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

/** Encodes numbers as little-endian bytes of the given dtype (the inverse of toFloat32). */
export function fromFloat32(values: ArrayLike<number>, dtype: TensorDtype): Uint8Array {
  const out = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'F32') view.setFloat32(i * 4, values[i], true);
    else if (dtype === 'F16') view.setUint16(i * 2, numberToF16Bits(values[i]), true);
    else view.setUint16(i * 2, numberToBf16Bits(values[i]), true);
  }
  return out;
}
