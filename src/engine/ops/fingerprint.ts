// A 64-bit fingerprint of GPU buffers' contents, read back as two u32 words: how generate's prefix
// cache tells whether a LoRA adapter's weights changed since K/V was computed under them (the
// optimizer updates them in place), without reading megabytes back.
//
// Word i of buffer j (its raw bits) contributes h1 = mix(word ^ mix(i + j·φ)) and
// h2 = mix(h1 + c + j) to two wrapping u32 sums. Integer sums do not depend on the order threads
// add them in, so the result is exact and reproducible, and fingerprintCpu mirrors it bit for bit.
// Any change of a word changes each sum unless its mixed value collides (about 2^-64 for both).
import { ceilDiv, type GpuContext } from '../gpu/context';

const WORKGROUP = 256;

function mix32(x: number): number {
  let v = x >>> 0;
  v = Math.imul(v ^ (v >>> 16), 0x21f0aaad) >>> 0;
  v = Math.imul(v ^ (v >>> 15), 0x735a2d97) >>> 0;
  return (v ^ (v >>> 15)) >>> 0;
}

/** CPU reference: [sum h1, sum h2] over the buffers' u32 words. */
export function fingerprintCpu(buffers: readonly Uint32Array[]): [number, number] {
  let s1 = 0,
    s2 = 0;
  buffers.forEach((words, j) => {
    const salt = Math.imul(j, 0x9e3779b9) >>> 0;
    for (let i = 0; i < words.length; i++) {
      const h1 = mix32((words[i] ^ mix32((i + salt) >>> 0)) >>> 0);
      const h2 = mix32((h1 + 0x85ebca6b + j) >>> 0);
      s1 = (s1 + h1) >>> 0;
      s2 = (s2 + h2) >>> 0;
    }
  });
  return [s1, s2];
}

const FINGERPRINT_WGSL = /* wgsl */ `
struct Params { words: u32, index: u32, salt: u32, unused: u32 }
@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> sums: array<atomic<u32>, 2>;
@group(0) @binding(2) var<uniform> params: Params;

fn mix32(x: u32) -> u32 {
  var v = x;
  v = (v ^ (v >> 16u)) * 0x21f0aaadu;
  v = (v ^ (v >> 15u)) * 0x735a2d97u;
  return v ^ (v >> 15u);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= params.words) { return; }
  let h1 = mix32(data[i] ^ mix32(i + params.salt));
  let h2 = mix32(h1 + 0x85ebca6bu + params.index);
  atomicAdd(&sums[0], h1);
  atomicAdd(&sums[1], h2);
}`;

/**
 * Fingerprints `buffers` (each's first `words[j]` u32 words) into `sums` (≥ 8 bytes, zeroed here
 * by the caller's queue write before the pass). Records into `pass`.
 */
export function encodeFingerprint(ctx: GpuContext, pass: GPUComputePassEncoder, buffers: readonly { buffer: GPUBuffer; words: number }[], sums: GPUBuffer) {
  if (sums.size < 8) throw new Error(`fingerprint: the sums buffer holds ${sums.size} bytes, needs 8`);
  const pipeline = ctx.pipeline(FINGERPRINT_WGSL);
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  buffers.forEach(({ buffer, words }, j) => {
    if (!Number.isInteger(words) || words < 0 || words * 4 > buffer.size)
      throw new Error(`fingerprint: buffer ${j} holds ${buffer.size} bytes, ${words} words requested`);
    if (words === 0) return;
    const groups = ceilDiv(words, WORKGROUP);
    const x = Math.min(groups, limit);
    ctx.dispatch(pass, pipeline, [buffer, sums, ctx.params([words, j, Math.imul(j, 0x9e3779b9) >>> 0, 0])], [x, ceilDiv(groups, x)]);
  });
}

/** Runs the fingerprint of `buffers` and reads it back; `sums` is the caller's 8-byte scratch. */
export async function fingerprintBuffers(
  ctx: GpuContext,
  buffers: readonly { buffer: GPUBuffer; words: number }[],
  sums: GPUBuffer,
): Promise<[number, number]> {
  ctx.write(sums, new Uint32Array(2));
  const encoder = ctx.device.createCommandEncoder({ label: 'fingerprint' });
  const pass = encoder.beginComputePass({ label: 'fingerprint' });
  encodeFingerprint(ctx, pass, buffers, sums);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  const out = new Uint32Array(await ctx.read(sums, 8));
  return [out[0], out[1]];
}
