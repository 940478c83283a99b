// CPU-side weight formats: packing/quantization, dequantization and f16 conversion.
export * from './formats';
export { packWeight, unpackWeight } from './pack';
export { f16BitsToF32, f32BitsToF16Bits, roundToF16, toF16Bits } from './f16-bits';
