// safetensors writer (tiny model maker, PEFT adapter export). Tensors are laid out in name order;
// the JSON header is padded with spaces to a multiple of 8 bytes, as Hugging Face requires.
import { DTYPE_BYTES, type TensorDtype } from './dtypes';
import { SafetensorsError } from './errors';

export interface TensorToWrite {
  name: string;
  dtype: TensorDtype;
  shape: number[];
  /** Little-endian bytes of `dtype` (see fromFloat32 in ./dtypes). */
  data: Uint8Array;
}

export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // No prototype: tensor names are data, and "constructor" or "__proto__" must be names like any other.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of sorted) {
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name))
      throw new SafetensorsError(`writeSafetensors: duplicate or reserved tensor name "${t.name}"`);
    const expected = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new SafetensorsError(
        `writeSafetensors: tensor "${t.name}" has ${t.data.byteLength} bytes but shape ${JSON.stringify(t.shape)} × ${t.dtype} needs ${expected}`,
      );
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let cursor = 8 + json.byteLength;
  for (const t of sorted) {
    out.set(t.data, cursor);
    cursor += t.data.byteLength;
  }
  return out;
}
