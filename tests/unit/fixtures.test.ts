// Guards the Hugging Face reference fixtures (tools/reference/make_fixtures.py) against accidental
// corruption: every file is present, parses, and agrees with the others. No Python, no GPU.
// The safetensors reader here is deliberately local and minimal so that a bug in the real loader
// (src/hf-io/safetensors.ts) cannot hide a bad fixture, and vice versa.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(process.cwd(), 'tests', 'fixtures', 'models');
const MODELS = ['qwen2-tiny-gqa', 'qwen2-tiny-gqa-bf16', 'qwen2-tiny-tied', 'qwen3-tiny', 'qwen2-tiny-trained', 'qwen3-tiny-trained'];
const LORA_MODELS = ['qwen2-tiny-gqa', 'qwen3-tiny'];
const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const DTYPE_BYTES: Record<string, number> = { F32: 4, BF16: 2, F16: 2 };

interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}
interface Safetensors {
  tensors: Map<string, TensorInfo>;
  bytes: Buffer;
  dataStart: number;
}

function readSafetensors(file: string): Safetensors {
  const bytes = readFileSync(file);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, info] of Object.entries(header)) {
    if (name !== '__metadata__') tensors.set(name, info as TensorInfo);
  }
  return { tensors, bytes, dataStart: 8 + headerLen };
}

/** Checks offsets and sizes, then returns the tensor as float32 values (BF16 upcast exactly). */
function tensorValues(st: Safetensors, name: string): Float32Array {
  const info = st.tensors.get(name);
  if (!info) throw new Error(`tensor ${name} missing`);
  const [begin, end] = info.data_offsets;
  const count = info.shape.reduce((a, b) => a * b, 1);
  expect(end - begin, `${name} byte size`).toBe(count * DTYPE_BYTES[info.dtype]);
  const raw = st.bytes.subarray(st.dataStart + begin, st.dataStart + end);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = info.dtype === 'F32' ? raw.readFloatLE(4 * i) : bf16ToF32(raw.readUInt16LE(2 * i));
  }
  return out;
}

function bf16ToF32(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}

/** Round-to-nearest-even float32 -> bfloat16 -> float32, as torch's .to(torch.bfloat16). */
function roundToBf16(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  const bits = view.getUint32(0);
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
  return bf16ToF32(rounded & 0xffff);
}

function expectCompactLayout(st: Safetensors, file: string) {
  const ranges = [...st.tensors.values()].map((t) => t.data_offsets).sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [begin, end] of ranges) {
    expect(begin, `${file}: gap or overlap at byte ${begin}`).toBe(cursor);
    cursor = end;
  }
  expect(st.dataStart + cursor, `${file}: file size`).toBe(st.bytes.length);
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

interface QwenConfig {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  tie_word_embeddings: boolean;
  rope_theta: number;
  rms_norm_eps: number;
  torch_dtype: string;
  rope_parameters: { rope_theta: number };
}

function headDim(c: QwenConfig) {
  return c.head_dim ?? c.hidden_size / c.num_attention_heads;
}

/** The tensor names and shapes transformers writes for this config. */
function expectedTensors(c: QwenConfig): Map<string, number[]> {
  const hd = headDim(c);
  const H = c.hidden_size;
  const m = new Map<string, number[]>([
    ['model.embed_tokens.weight', [c.vocab_size, H]],
    ['model.norm.weight', [H]],
  ]);
  if (!c.tie_word_embeddings) m.set('lm_head.weight', [c.vocab_size, H]);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    m.set(`${p}input_layernorm.weight`, [H]);
    m.set(`${p}post_attention_layernorm.weight`, [H]);
    m.set(`${p}self_attn.q_proj.weight`, [c.num_attention_heads * hd, H]);
    m.set(`${p}self_attn.k_proj.weight`, [c.num_key_value_heads * hd, H]);
    m.set(`${p}self_attn.v_proj.weight`, [c.num_key_value_heads * hd, H]);
    m.set(`${p}self_attn.o_proj.weight`, [H, c.num_attention_heads * hd]);
    m.set(`${p}mlp.gate_proj.weight`, [c.intermediate_size, H]);
    m.set(`${p}mlp.up_proj.weight`, [c.intermediate_size, H]);
    m.set(`${p}mlp.down_proj.weight`, [H, c.intermediate_size]);
    if (c.model_type === 'qwen2') {
      m.set(`${p}self_attn.q_proj.bias`, [c.num_attention_heads * hd]);
      m.set(`${p}self_attn.k_proj.bias`, [c.num_key_value_heads * hd]);
      m.set(`${p}self_attn.v_proj.bias`, [c.num_key_value_heads * hd]);
    } else {
      m.set(`${p}self_attn.q_norm.weight`, [hd]);
      m.set(`${p}self_attn.k_norm.weight`, [hd]);
    }
  }
  return m;
}

function logSoftmaxAt(row: number[], index: number): number {
  const max = Math.max(...row);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return row[index] - max - Math.log(sum);
}

function std(rows: number[][]): number {
  const flat = rows.flat();
  const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
  const variance = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / (flat.length - 1);
  return Math.sqrt(variance);
}

function maskedNll(logits: number[][], ids: number[], mask: number[]): number {
  let sum = 0;
  let count = 0;
  for (let t = 1; t < ids.length; t++) {
    if (mask[t] !== 1) continue;
    sum -= logSoftmaxAt(logits[t - 1], ids[t]);
    count++;
  }
  return sum / count;
}

function argmax(row: number[]): number {
  return row.reduce((best, v, i) => (v > row[best] ? i : best), 0);
}

function expectLogitsMatrix(logits: unknown, T: number, V: number, what: string) {
  expect(Array.isArray(logits), what).toBe(true);
  const rows = logits as number[][];
  expect(rows.length, `${what} rows`).toBe(T);
  for (const row of rows) {
    expect(row.length, `${what} row length`).toBe(V);
    expect(row.every(Number.isFinite), `${what} finite`).toBe(true);
  }
}

describe('reference fixtures', () => {
  it('has exactly the documented model folders', () => {
    const dirs = readdirSync(ROOT)
      .filter((d) => statSync(join(ROOT, d)).isDirectory())
      .sort();
    expect(dirs).toEqual([...MODELS].sort());
  });

  describe.each(MODELS)('%s', (name) => {
    const dir = join(ROOT, name);
    const config = readJson(join(dir, 'config.json')) as QwenConfig;
    const st = readSafetensors(join(dir, 'model.safetensors'));

    it('config.json describes the intended architecture', () => {
      expect(['qwen2', 'qwen3']).toContain(config.model_type);
      expect(config.num_attention_heads % config.num_key_value_heads).toBe(0);
      expect(config.num_key_value_heads).toBeLessThan(config.num_attention_heads);
      expect(config.rope_theta).toBe(config.rope_parameters.rope_theta);
      expect(config.rms_norm_eps).toBeGreaterThan(0);
      if (config.model_type === 'qwen3') expect(headDim(config)).not.toBe(config.hidden_size / config.num_attention_heads);
      expect(config.torch_dtype).toBe(name.endsWith('-bf16') ? 'bfloat16' : 'float32');
    });

    it('model.safetensors holds exactly the expected tensors, compactly laid out', () => {
      const expected = expectedTensors(config);
      expect([...st.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [tensor, shape] of expected) {
        expect(st.tensors.get(tensor)!.shape, tensor).toEqual(shape);
        expect(st.tensors.get(tensor)!.dtype, tensor).toBe(name.endsWith('-bf16') ? 'BF16' : 'F32');
      }
      expectCompactLayout(st, `${name}/model.safetensors`);
    });

    it('norm gains and biases are non-trivial (not ones / zeros)', () => {
      for (const tensor of st.tensors.keys()) {
        const values = tensorValues(st, tensor);
        expect(values.every(Number.isFinite), tensor).toBe(true);
        if (tensor.endsWith('norm.weight'))
          expect(
            values.some((v) => Math.abs(v - 1) > 0.1),
            tensor,
          ).toBe(true);
        if (tensor.endsWith('.bias'))
          expect(
            values.some((v) => Math.abs(v) > 0.05),
            tensor,
          ).toBe(true);
      }
    });

    it('reference.json is self-consistent', () => {
      const ref = readJson(join(dir, 'reference.json'));
      const ids: number[] = ref.input_ids;
      const T = ids.length;
      expect(T).toBeGreaterThan(4);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < config.vocab_size)).toBe(true);
      expectLogitsMatrix(ref.logits, T, config.vocab_size, `${name} logits`);

      expect(ref.logprobs).toHaveLength(T - 1);
      for (let t = 1; t < T; t++) {
        expect(ref.logprobs[t - 1]).toBeCloseTo(logSoftmaxAt(ref.logits[t - 1], ids[t]), 4);
      }

      expect(ref.logits_std).toBeGreaterThan(0.5);
      expect(Math.abs(ref.logits_std - std(ref.logits)) / ref.logits_std).toBeLessThan(1e-4);

      expect(ref.greedy.prompt_ids).toEqual(ids);
      expect(ref.greedy.new_ids).toHaveLength(16);
      expect(ref.greedy.new_ids.every((id: number) => Number.isInteger(id) && id >= 0 && id < config.vocab_size)).toBe(true);
      // The first greedy token is the argmax of the last prompt position's logits.
      expect(ref.greedy.new_ids[0]).toBe(argmax(ref.logits[T - 1]));
      expect(ref.greedy.min_top2_margin).toBeGreaterThan(1e-3);
    });

    it('reference.json second_row is a shorter, different sequence with consistent log-probs', () => {
      const ref = readJson(join(dir, 'reference.json'));
      const ids: number[] = ref.second_row.input_ids;
      expect(ids.length).toBeGreaterThan(1);
      expect(ids.length).not.toBe(ref.input_ids.length);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < config.vocab_size)).toBe(true);
      expectLogitsMatrix(ref.second_row.logits, ids.length, config.vocab_size, `${name} second_row.logits`);
      expect(ref.second_row.logprobs).toHaveLength(ids.length - 1);
      for (let t = 1; t < ids.length; t++) {
        expect(ref.second_row.logprobs[t - 1]).toBeCloseTo(logSoftmaxAt(ref.second_row.logits[t - 1], ids[t]), 4);
      }
    });
  });

  it('the bf16 copy holds the f32 weights rounded to bfloat16 (round to nearest even)', () => {
    const f32 = readSafetensors(join(ROOT, 'qwen2-tiny-gqa', 'model.safetensors'));
    const bf16 = readSafetensors(join(ROOT, 'qwen2-tiny-gqa-bf16', 'model.safetensors'));
    expect([...bf16.tensors.keys()].sort()).toEqual([...f32.tensors.keys()].sort());
    for (const tensor of f32.tensors.keys()) {
      const want = tensorValues(f32, tensor).map(roundToBf16);
      const got = tensorValues(bf16, tensor);
      const mismatches = got.filter((v, i) => v !== want[i]).length;
      expect(mismatches, `${tensor}: values that are not the bf16 rounding of the f32 fixture`).toBe(0);
    }
    const refF32 = readJson(join(ROOT, 'qwen2-tiny-gqa', 'reference.json'));
    const refBf16 = readJson(join(ROOT, 'qwen2-tiny-gqa-bf16', 'reference.json'));
    // Same prompt; rounding the weights must visibly change the logits, or the BF16 test is vacuous.
    expect(refBf16.input_ids).toEqual(refF32.input_ids);
    const diff = Math.max(...refF32.logits.flat().map((v: number, i: number) => Math.abs(v - refBf16.logits.flat()[i])));
    expect(diff).toBeGreaterThan(1e-4);
  });

  describe.each(LORA_MODELS)('%s LoRA', (name) => {
    const dir = join(ROOT, name);
    const loraDir = join(dir, 'lora');
    const config = readJson(join(dir, 'config.json')) as QwenConfig;

    it('adapter_config.json and adapter_model.safetensors match the PEFT layout', () => {
      const ac = readJson(join(loraDir, 'adapter_config.json'));
      expect(ac.peft_type).toBe('LORA');
      expect([...ac.target_modules].sort()).toEqual([...LORA_TARGETS].sort());
      const adapter = readSafetensors(join(loraDir, 'adapter_model.safetensors'));
      expectCompactLayout(adapter, `${name}/lora/adapter_model.safetensors`);
      const base = expectedTensors(config);
      const expected = new Map<string, number[]>();
      for (const [tensor, [out, inp]] of base) {
        const module = tensor.split('.').at(-2)!;
        if (!tensor.endsWith('.weight') || !LORA_TARGETS.includes(module)) continue;
        const prefix = `base_model.model.${tensor.slice(0, -'.weight'.length)}`;
        expected.set(`${prefix}.lora_A.weight`, [ac.r, inp]);
        expected.set(`${prefix}.lora_B.weight`, [out, ac.r]);
      }
      expect([...adapter.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [tensor, shape] of expected) {
        expect(adapter.tensors.get(tensor)!.shape, tensor).toEqual(shape);
        if (tensor.includes('lora_B'))
          expect(
            tensorValues(adapter, tensor).some((v) => v !== 0),
            `${tensor} is zero`,
          ).toBe(true);
      }
    });

    it.each(['grads.safetensors', 'grads_last_k.safetensors'])('%s has one F32 gradient per adapter tensor', (file) => {
      const adapter = readSafetensors(join(loraDir, 'adapter_model.safetensors'));
      const grads = readSafetensors(join(loraDir, file));
      expectCompactLayout(grads, `${name}/lora/${file}`);
      expect([...grads.tensors.keys()].sort()).toEqual([...adapter.tensors.keys()].sort());
      let nonZero = 0;
      for (const [tensor, info] of grads.tensors) {
        expect(info.dtype, tensor).toBe('F32');
        expect(info.shape, tensor).toEqual(adapter.tensors.get(tensor)!.shape);
        const values = tensorValues(grads, tensor);
        expect(values.every(Number.isFinite), tensor).toBe(true);
        if (values.some((v) => v !== 0)) nonZero++;
      }
      expect(nonZero).toBe(grads.tensors.size);
    });

    it('lora_reference.json losses agree with its logits and masks', () => {
      const ref = readJson(join(loraDir, 'lora_reference.json'));
      const base = readJson(join(dir, 'reference.json'));
      const ids: number[] = ref.input_ids;
      const T = ids.length;
      expect(ids).toEqual(base.input_ids);
      expectLogitsMatrix(ref.logits_with_adapter, T, config.vocab_size, `${name} logits_with_adapter`);
      expect(ref.logits_with_adapter).not.toEqual(base.logits);
      expect(typeof ref.loss_definition).toBe('string');

      const mask: number[] = ref.loss_mask;
      expect(mask).toHaveLength(T);
      expect(mask[0]).toBe(0);
      expect(mask.every((m) => m === 0 || m === 1)).toBe(true);
      expect(
        mask.slice(1).some((m) => m === 0),
        'mask excludes something besides position 0',
      ).toBe(true);
      expect(ref.loss).toBeCloseTo(maskedNll(ref.logits_with_adapter, ids, mask), 4);

      const K: number = ref.loss_last_k;
      expect(K).toBeGreaterThan(0);
      expect(K).toBeLessThan(T);
      const lastK = ids.map((_, t) => (t >= T - K ? 1 : 0));
      expect(ref.loss_last_k_value).toBeCloseTo(maskedNll(ref.logits_with_adapter, ids, lastK), 4);

      for (let t = 1; t < T; t++) {
        expect(ref.logprobs_with_adapter[t - 1]).toBeCloseTo(logSoftmaxAt(ref.logits_with_adapter[t - 1], ids[t]), 4);
      }
      expect(existsSync(join(loraDir, ref.grads_file))).toBe(true);
      expect(existsSync(join(loraDir, ref.grads_last_k_file))).toBe(true);
    });
  });
});
