// WGSL that reads one chunk of a GpuWeight, shared by the matmul kernels and the embedding gather.
// It declares the chunk's bindings and `fn w_quad(n: u32, q: u32) -> vec4<f32>`: the dequantized
// elements 4q..4q+3 of the chunk's local row n (layout: src/engine/quant/formats.ts).
import { GROUP_SIZE, paddedCols, type WeightFormat } from '../quant/formats';

export interface WeightWgsl {
  /** `enable f16;` when the shader-f16 variant is used (must open the module). */
  enable: string;
  /** Binding declarations and the decode functions. */
  code: string;
}

/**
 * @param cols K of the weight (rows are padded to whole 32-groups).
 * @param bindings binding numbers for the data buffer and (q8/q4) the scales buffer.
 * @param shaderF16 read f16 weights as native `vec4<f16>` (device has shader-f16); arithmetic stays
 *   f32 so long dot products keep f32 accuracy — the gain is the cheaper load/convert.
 */
export function weightWgsl(format: WeightFormat, cols: number, bindings: { data: number; scales: number }, shaderF16: boolean): WeightWgsl {
  const kp = paddedCols(cols);
  const quads = kp / 4;
  const groups = kp / GROUP_SIZE;
  const scaleFn = /* wgsl */ `
@group(0) @binding(${bindings.scales}) var<storage, read> w_scales: array<u32>;
// Scale of (local row n, group g): f16 index n·G + g, two per word, even index in the low half.
fn w_scale(n: u32, g: u32) -> f32 {
  let i = n * ${groups}u + g;
  let pair = unpack2x16float(w_scales[i >> 1u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}`;
  switch (format) {
    case 'f32':
      return {
        enable: '',
        code: /* wgsl */ `
@group(0) @binding(${bindings.data}) var<storage, read> w_data: array<vec4<f32>>;
fn w_quad(n: u32, q: u32) -> vec4<f32> { return w_data[n * ${quads}u + q]; }`,
      };
    case 'f16':
      if (shaderF16) {
        return {
          enable: 'enable f16;',
          code: /* wgsl */ `
@group(0) @binding(${bindings.data}) var<storage, read> w_data: array<vec4<f16>>;
fn w_quad(n: u32, q: u32) -> vec4<f32> { return vec4<f32>(w_data[n * ${quads}u + q]); }`,
        };
      }
      return {
        enable: '',
        code: /* wgsl */ `
@group(0) @binding(${bindings.data}) var<storage, read> w_data: array<vec2<u32>>;
fn w_quad(n: u32, q: u32) -> vec4<f32> {
  let p = w_data[n * ${quads}u + q];
  return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y));
}`,
      };
    case 'q8':
      return {
        enable: '',
        code: /* wgsl */ `
@group(0) @binding(${bindings.data}) var<storage, read> w_data: array<u32>;
${scaleFn}
// Four int8 per word, element 4q+j in byte j; extractBits on i32 sign-extends.
fn w_quad(n: u32, q: u32) -> vec4<f32> {
  let v = bitcast<i32>(w_data[n * ${quads}u + q]);
  let ints = vec4<i32>(extractBits(v, 0u, 8u), extractBits(v, 8u, 8u), extractBits(v, 16u, 8u), extractBits(v, 24u, 8u));
  return vec4<f32>(ints) * w_scale(n, q >> 3u);
}`,
      };
    case 'q4':
      return {
        enable: '',
        code: /* wgsl */ `
@group(0) @binding(${bindings.data}) var<storage, read> w_data: array<u32>;
${scaleFn}
// Eight nibbles per word, element 8i+j at bits 4j; quad q is the low (even q) or high half-word.
fn w_quad(n: u32, q: u32) -> vec4<f32> {
  let v = w_data[n * ${kp / 8}u + (q >> 1u)] >> ((q & 1u) * 16u);
  let nibbles = vec4<u32>(v & 15u, (v >> 4u) & 15u, (v >> 8u) & 15u, (v >> 12u) & 15u);
  return (vec4<f32>(nibbles) - vec4<f32>(7.0)) * w_scale(n, q >> 3u);
}`,
      };
  }
}
