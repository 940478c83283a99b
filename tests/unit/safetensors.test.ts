import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource, nodeFileSource } from '../../src/hf-io/node-sources';
import { bytesSource } from '../../src/hf-io/byte-source';
import { openCheckpoint, parseShardIndex, validateAgainstConfig, type ShardIndex } from '../../src/hf-io/checkpoint';
import { expectedTensors } from '../../src/hf-io/config';
import { f16BitsToNumber, fromFloat32, numberToBf16Bits, numberToF16Bits, toFloat32 } from '../../src/hf-io/dtypes';
import { ModelLoadError, SafetensorsError } from '../../src/hf-io/errors';
import { MAX_HEADER_BYTES, SafetensorsFile, tensorToFloat32 } from '../../src/hf-io/safetensors';
import { writeSafetensors, type TensorToWrite } from '../../src/hf-io/safetensors-writer';
import { makeTinyModel } from '../../models/tiny-model';

/** A hand-built file: 8-byte length, header text, data; `declaredLength` overrides the length field. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const text =
    typeof header === 'string' ? new TextEncoder().encode(header) : header instanceof Uint8Array ? header : new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

async function openError(bytes: Uint8Array, name = 'bad.safetensors'): Promise<Error> {
  try {
    await SafetensorsFile.open(bytesSource(name, bytes));
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the file to be rejected');
}

const f32 = (values: number[]) => fromFloat32(values, 'F32');

describe('safetensors: malformed files give errors naming the file and tensor', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['file shorter than the length prefix', new Uint8Array(5), /^bad\.safetensors: file is too short \(5 bytes\)/],
    [
      'header length past end of file',
      rawFile('{}', new Uint8Array(0), 4096n),
      /^bad\.safetensors: header length 4096 runs past the end of the file \(10 bytes\)/,
    ],
    [
      'absurd header length',
      rawFile('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES) + 1n),
      /^bad\.safetensors: header length 104857601 is larger than the 104857600-byte limit/,
    ],
    ['header not UTF-8', rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /^bad\.safetensors: header is not valid UTF-8/],
    ['header not JSON', rawFile('{"a": [1, 2'), /^bad\.safetensors: header is not valid JSON/],
    ['header JSON not an object', rawFile('[1,2,3]'), /^bad\.safetensors: header must be a JSON object/],
    [
      'unsupported dtype I64',
      rawFile({ 'model.ids': { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /^bad\.safetensors: tensor "model\.ids": unsupported dtype "I64" \(supported: F32, F16, BF16\)/,
    ],
    ['unsupported dtype F64', rawFile({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "w": unsupported dtype "F64"/],
    [
      'shape with a negative dim',
      rawFile({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /^bad\.safetensors: tensor "w": shape must be an array of non-negative integers, got \[2,-1\]/,
    ],
    ['shape not an array', rawFile({ w: { dtype: 'F32', shape: '2x2', data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor "w": shape must be an array/],
    [
      'data_offsets not a pair',
      rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, new Uint8Array(8)),
      /^bad\.safetensors: tensor "w": data_offsets must be \[begin, end\] non-negative integers, got \[0\]/,
    ],
    [
      'data_offsets fractional',
      rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 7.5] } }, new Uint8Array(8)),
      /tensor "w": data_offsets must be \[begin, end\]/,
    ],
    [
      'byte length ≠ shape × dtype size',
      rawFile({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /^bad\.safetensors: tensor "w": byte length 8 does not match shape \[3\] × 2 bytes \(F16\) = 6/,
    ],
    [
      'offsets out of bounds',
      rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
      /^bad\.safetensors: tensor "w": data_offsets \[0, 16\] are out of bounds of the 8-byte data section/,
    ],
    [
      'overlapping tensors',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
      /^bad\.safetensors: tensor "b" \(bytes 4\.\.12\) overlaps tensor "a"/,
    ],
    [
      'gap between tensors',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
      /^bad\.safetensors: gap of 4 unused bytes before tensor "b"/,
    ],
    [
      'trailing bytes after the last tensor',
      rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(9)),
      /^bad\.safetensors: data section has 9 bytes but tensors cover 4 \(last tensor "a"\)/,
    ],
    ['__metadata__ with a non-string value', rawFile({ __metadata__: { format: 1 } }), /^bad\.safetensors: "__metadata__" value for "format" must be a string/],
    ['tensor entry not an object', rawFile({ w: 5 }), /^bad\.safetensors: tensor "w": entry must be an object/],
  ];
  it.each(cases)('%s', async (_label, bytes, message) => {
    const err = await openError(bytes);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect(err.message).toMatch(message);
  });
});

describe('safetensors: decoding', () => {
  it('decodes F32 exactly, including negatives and infinities', async () => {
    const values = [1.5, -2.25, 0, -0, 3.4028234663852886e38, 1e-45, -Infinity];
    const file = await SafetensorsFile.open(bytesSource('f32.safetensors', writeSafetensors([{ name: 'x', dtype: 'F32', shape: [7], data: f32(values) }])));
    expect(Array.from(tensorToFloat32(await file.tensor('x')))).toEqual(values.map((v) => Math.fround(v)));
  });

  it('decodes F16 bit patterns: normals, negatives, subnormals, ±inf, NaN', () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const data = new Uint8Array(new Uint16Array(bits).buffer);
    const out = Array.from(toFloat32(data, 'F16'));
    expect(out.slice(0, 6)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14]);
    expect(out[6]).toBeCloseTo(0.33325195, 8);
    expect(Object.is(out[7], -0)).toBe(true);
    expect(out[8]).toBe(Infinity);
    expect(out[9]).toBe(-Infinity);
    expect(Number.isNaN(out[10])).toBe(true);
  });

  it('decodes BF16 as the top half of an f32', () => {
    const bits = [0x3f80, 0xc040, 0x3eab, 0x0001, 0x7f80, 0xff80, 0x7fc0];
    const out = Array.from(toFloat32(new Uint8Array(new Uint16Array(bits).buffer), 'BF16'));
    expect(out.slice(0, 4)).toEqual([1, -3, 0.333984375, 2 ** -133]);
    expect(out[4]).toBe(Infinity);
    expect(out[5]).toBe(-Infinity);
    expect(Number.isNaN(out[6])).toBe(true);
  });

  it('encodes with round-half-to-even and overflow to infinity', () => {
    expect(numberToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(numberToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(numberToF16Bits(65520)).toBe(0x7c00);
    expect(numberToF16Bits(-(2 ** -24))).toBe(0x8001);
    expect(f16BitsToNumber(numberToF16Bits(-0.1))).toBeCloseTo(-0.1, 4);
    expect(numberToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(numberToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(numberToBf16Bits(-3)).toBe(0xc040);
  });

  it('round-trips F16 and BF16 tensors through the writer and reader, with metadata', async () => {
    const values = [0.5, -1.75, 1024, -0.0009765625];
    const bytes = writeSafetensors(
      [
        { name: 'b', dtype: 'BF16', shape: [2, 2], data: fromFloat32(values, 'BF16') },
        { name: 'a', dtype: 'F16', shape: [4], data: fromFloat32(values, 'F16') },
      ],
      { format: 'pt' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const file = await SafetensorsFile.open(bytesSource('rt.safetensors', bytes));
    expect(file.header.metadata).toEqual({ format: 'pt' });
    expect(file.names).toEqual(['a', 'b']);
    expect(Array.from(tensorToFloat32(await file.tensor('a')))).toEqual(values);
    const b = await file.tensor('b');
    expect(b.shape).toEqual([2, 2]);
    expect(b.dtype).toBe('BF16');
    expect(b.bytes.byteLength).toBe(8);
    expect(Array.from(tensorToFloat32(b))).toEqual(values);
  });
});

describe('checkpoint: tensors checked against the config', () => {
  const tiny = makeTinyModel({ arch: 'qwen2', layers: 1, seed: 3 });
  const original = bytesSource('model.safetensors', tiny.files.get('model.safetensors')!);

  async function tensorsOf(): Promise<TensorToWrite[]> {
    const file = await SafetensorsFile.open(original);
    const out: TensorToWrite[] = [];
    for await (const t of file.tensors()) out.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    return out;
  }
  const asCheckpoint = (tensors: TensorToWrite[]) => new Map([['model.safetensors', bytesSource('model.safetensors', writeSafetensors(tensors))]]);

  it('accepts the complete checkpoint', async () => {
    const ckpt = await openCheckpoint(tiny.config, asCheckpoint(await tensorsOf()));
    expect(ckpt.names().sort()).toEqual(
      expectedTensors(tiny.config)
        .map((t) => t.name)
        .sort(),
    );
  });

  it('reports a missing tensor by name and shape', async () => {
    const tensors = (await tensorsOf()).filter((t) => t.name !== 'model.layers.0.self_attn.k_proj.bias');
    await expect(openCheckpoint(tiny.config, asCheckpoint(tensors))).rejects.toThrow(/missing tensor "model\.layers\.0\.self_attn\.k_proj\.bias" \[32\]/);
  });

  it('reports an unexpected tensor with its file', async () => {
    const tensors = [...(await tensorsOf()), { name: 'model.layers.7.mlp.up_proj.weight', dtype: 'F32' as const, shape: [1], data: f32([0]) }];
    await expect(openCheckpoint(tiny.config, asCheckpoint(tensors))).rejects.toThrow(
      /unexpected tensor "model\.layers\.7\.mlp\.up_proj\.weight" in model\.safetensors/,
    );
  });

  it('reports a mis-shaped tensor with found and expected shapes', async () => {
    const tensors = (await tensorsOf()).map((t) => (t.name === 'model.norm.weight' ? { ...t, shape: [8, 8] } : t));
    await expect(openCheckpoint(tiny.config, asCheckpoint(tensors))).rejects.toThrow(
      /model\.safetensors: tensor "model\.norm\.weight" has shape \[8,8\], expected \[64\]/,
    );
  });

  it('validateAgainstConfig throws a ModelLoadError for a transposed linear weight', () => {
    const found = new Map(expectedTensors(tiny.config).map((t) => [t.name, { shape: t.shape, file: 'x.safetensors' }]));
    found.set('model.layers.0.mlp.down_proj.weight', { shape: [64, 128], file: 'x.safetensors' });
    expect(() => validateAgainstConfig(tiny.config, found)).not.toThrow();
    found.set('model.layers.0.mlp.down_proj.weight', { shape: [128, 64], file: 'x.safetensors' });
    expect(() => validateAgainstConfig(tiny.config, found)).toThrow(ModelLoadError);
  });
});

describe('checkpoint: sharded index', () => {
  const tiny = makeTinyModel({ arch: 'qwen3', layers: 2, seed: 5 });

  async function shardedFiles() {
    const file = await SafetensorsFile.open(bytesSource('model.safetensors', tiny.files.get('model.safetensors')!));
    const first: TensorToWrite[] = [];
    const second: TensorToWrite[] = [];
    for await (const t of file.tensors())
      (t.name.includes('layers.1.') || t.name === 'model.norm.weight' ? second : first).push({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weightMap: Record<string, string> = {};
    for (const t of first) weightMap[t.name] = names[0];
    for (const t of second) weightMap[t.name] = names[1];
    return { file, names, first, second, weightMap };
  }

  it('reads every tensor from its shard with the same bytes as the single file', async () => {
    const { file, names, first, second, weightMap } = await shardedFiles();
    const index = parseShardIndex(JSON.stringify({ metadata: { total_size: 1 }, weight_map: weightMap }));
    expect(index.shards).toEqual(names);
    const shards = new Map([
      [names[0], bytesSource(names[0], writeSafetensors(first))],
      [names[1], bytesSource(names[1], writeSafetensors(second))],
    ]);
    const ckpt = await openCheckpoint(tiny.config, shards, index);
    expect(ckpt.info('model.layers.1.self_attn.q_norm.weight').file).toBe(names[1]);
    expect(ckpt.info('model.embed_tokens.weight').file).toBe(names[0]);
    for (const name of ['model.layers.1.mlp.down_proj.weight', 'model.embed_tokens.weight']) {
      expect((await ckpt.tensor(name)).bytes).toEqual((await file.tensor(name)).bytes);
    }
  });

  it('names the missing shard the index points at', async () => {
    const { names, first, weightMap } = await shardedFiles();
    const index = parseShardIndex(JSON.stringify({ weight_map: weightMap }));
    const shards = new Map([[names[0], bytesSource(names[0], writeSafetensors(first))]]);
    await expect(openCheckpoint(tiny.config, shards, index)).rejects.toThrow(
      /^model\.safetensors\.index\.json: points at shard "model-00002-of-00002\.safetensors", which is missing \(tensor "model\.layers\.1\./,
    );
  });

  it('names a tensor the index assigns to a shard that lacks it', async () => {
    const { names, first, second, weightMap } = await shardedFiles();
    const index = parseShardIndex(JSON.stringify({ weight_map: weightMap }));
    const shards = new Map([
      [names[0], bytesSource(names[0], writeSafetensors(first))],
      [names[1], bytesSource(names[1], writeSafetensors(second.filter((t) => t.name !== 'model.norm.weight')))],
    ]);
    await expect(openCheckpoint(tiny.config, shards, index)).rejects.toThrow(
      'model.safetensors.index.json: tensor "model.norm.weight" is assigned to shard "model-00002-of-00002.safetensors", but that file does not contain it',
    );
  });

  it('rejects a shard holding a tensor the index does not assign to it', async () => {
    const { names, first, second, weightMap } = await shardedFiles();
    const index = parseShardIndex(JSON.stringify({ weight_map: weightMap }));
    const extra = [...second, { name: 'model.embed_tokens.weight', dtype: first[0].dtype, shape: first[0].shape, data: first[0].data }];
    const shards = new Map([
      [names[0], bytesSource(names[0], writeSafetensors(first))],
      [names[1], bytesSource(names[1], writeSafetensors(extra))],
    ]);
    await expect(openCheckpoint(tiny.config, shards, index)).rejects.toThrow(
      /^model-00002-of-00002\.safetensors: tensor "model\.embed_tokens\.weight" is not assigned to this shard/,
    );
  });

  it('rejects a malformed index', () => {
    expect(() => parseShardIndex('{"metadata": {}}')).toThrow(/model\.safetensors\.index\.json: missing "weight_map" object/);
    expect(() => parseShardIndex('{"weight_map": {"a": "../x.safetensors"}}')).toThrow(/weight_map entry for tensor "a" must name a \.safetensors file/);
    expect(() => parseShardIndex('not json')).toThrow(/not valid JSON/);
  });
});

describe('Hugging Face fixtures (tests/fixtures/models, written by transformers)', () => {
  const dir = join(process.cwd(), 'tests/fixtures/models');
  const models = existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'config.json'))) : [];

  it('loads every fixture model with its tensors matching the config', async () => {
    expect(models).toEqual(expect.arrayContaining(['qwen2-tiny-gqa', 'qwen2-tiny-gqa-bf16', 'qwen2-tiny-tied', 'qwen3-tiny']));
    for (const name of models) {
      const model = await loadModel(new NodeDirSource(join(dir, name)));
      expect(model.checkpoint.names().length, name).toBe(expectedTensors(model.config).length);
    }
  });

  it('BF16 fixture equals PyTorch round-to-nearest-even of the F32 fixture, tensor by tensor', async () => {
    const f32 = await SafetensorsFile.open(await nodeFileSource(join(dir, 'qwen2-tiny-gqa/model.safetensors')));
    const bf16 = await SafetensorsFile.open(await nodeFileSource(join(dir, 'qwen2-tiny-gqa-bf16/model.safetensors')));
    expect(bf16.names.sort()).toEqual(f32.names.sort());
    for (const name of f32.names) {
      const a = await f32.tensor(name);
      const b = await bf16.tensor(name);
      expect(b.dtype).toBe('BF16');
      expect(b.shape).toEqual(a.shape);
      // Our encoder reproduces torch's bytes, and our decoder is its exact inverse.
      expect(Buffer.from(fromFloat32(tensorToFloat32(a), 'BF16')).equals(Buffer.from(b.bytes)), name).toBe(true);
      expect(Array.from(fromFloat32(tensorToFloat32(b), 'BF16'))).toEqual(Array.from(b.bytes));
    }
  });
});
