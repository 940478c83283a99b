// Packed weight formats. All four share one geometry so the kernels share one addressing scheme:
//
//   A weight is W[rows N, cols K] (Hugging Face Linear layout [out, in], or an embedding [vocab, hidden]).
//   Every row is padded with zeros to Kp = ceil(K / 32) * 32 columns, so a row is a whole number of
//   32-element groups. (Qwen's dims are multiples of 32, so the padding only exists for odd test shapes;
//   kernels never read x beyond K, and the padded weights are zeros anyway.)
//   `data` is a Uint32Array holding the rows one after the other; words per row:
//     f32: Kp      — the f32 bit patterns;
//     f16: Kp / 2  — two IEEE halves per word, element 2i in the low 16 bits, 2i+1 in the high 16 bits
//                    (this is exactly little-endian f16 memory, what unpack2x16float decodes);
//     q8:  Kp / 4  — four int8 (two's complement) per word, element 4i+j in byte j (least significant first);
//                    value = q · scale, q in [-127, 127], scale = max|x| / 127 per group;
//     q4:  Kp / 8  — eight unsigned nibbles per word, element 8i+j in bits 4j..4j+3 (least significant first);
//                    value = (q − 7) · scale, q in [0, 15] (the quantizer produces 0..14), scale = max|x| / 7.
//   `scales` (q8 and q4 only): one f16 scale per (row, group), index row·(Kp/32) + group, stored flat over
//   the whole chunk and packed two per u32 (even index in the low half), i.e. little-endian f16 memory.
//
// q4 is the same as MLC-LLM's q4f16_1 ("NK" linear layout): q_weight is uint32 [N, K/8] with element
// 8i+j at bits 4j (least significant nibble first), q_scale is float16 [N, K/32], value = (q − 7)·scale,
// scale = max|x|/7 per group of 32 along K. Their q_weight bytes map to our `data` and their q_scale
// bytes to our `scales` unchanged (rows are contiguous in both). All-zero groups get scale 0 and q = 7.

export type WeightFormat = 'f32' | 'f16' | 'q8' | 'q4';

/**
 * Version of the packed bytes: bump it whenever the layout above or the quantizer in pack.ts
 * changes. It is part of every quantized-weight cache key (weight-cache.ts), so old entries are
 * then never read back.
 */
export const PACKED_WEIGHTS_VERSION = 1;

export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'q8', 'q4'];

export function isWeightFormat(value: unknown): value is WeightFormat {
  return typeof value === 'string' && (WEIGHT_FORMATS as readonly string[]).includes(value);
}

/** Elements per quantization group along K (and the row padding unit for every format). */
export const GROUP_SIZE = 32;

const WORDS_PER_GROUP: Record<WeightFormat, number> = { f32: 32, f16: 16, q8: 8, q4: 4 };

/** K rounded up to whole groups. */
export function paddedCols(cols: number): number {
  return Math.ceil(cols / GROUP_SIZE) * GROUP_SIZE;
}

export function groupsPerRow(cols: number): number {
  return paddedCols(cols) / GROUP_SIZE;
}

export function dataWordsPerRow(format: WeightFormat, cols: number): number {
  return groupsPerRow(cols) * WORDS_PER_GROUP[format];
}

export function hasScales(format: WeightFormat): boolean {
  return format === 'q8' || format === 'q4';
}

/** u32 words holding the scales of `rows` rows (two f16 per word). */
export function scaleWordsFor(rows: number, cols: number): number {
  return Math.ceil((rows * groupsPerRow(cols)) / 2);
}

/** Bytes per weight element, scales included (for memory estimates and chunk sizing). */
export function bytesPerElement(format: WeightFormat): number {
  const scaleBytes = hasScales(format) ? 2 / GROUP_SIZE : 0;
  return (WORDS_PER_GROUP[format] * 4) / GROUP_SIZE + scaleBytes;
}

/** A weight packed on the CPU, ready to upload: see the layout above. */
export interface PackedWeight {
  format: WeightFormat;
  rows: number;
  cols: number;
  data: Uint32Array;
  /** q8/q4 only; null for f32/f16. */
  scales: Uint32Array | null;
}
