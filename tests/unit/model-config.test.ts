import { describe, expect, it } from 'vitest';
import { expectedTensors, paramCount, parseModelConfig, weightBytes } from '../../src/hf-io/config';
import { ModelConfigError } from '../../src/hf-io/errors';

// The published config.json of Qwen/Qwen2.5-0.5B-Instruct (transformers 4.x layout).
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.43.1',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

// The published config.json of Qwen/Qwen3-0.6B.
const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const errorOf = (json: unknown): string => {
  try {
    parseModelConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the config to be rejected');
};

describe('config.json parsing', () => {
  it('normalizes a Qwen2.5 config: qkv bias, head_dim = hidden/heads, GQA, tied', () => {
    const c = parseModelConfig(JSON.stringify(QWEN25_05B));
    expect(c).toMatchObject({
      architecture: 'Qwen2ForCausalLM',
      family: 'qwen2',
      vocabSize: 151936,
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      maxPositionEmbeddings: 32768,
      ropeTheta: 1e6,
      rmsNormEps: 1e-6,
      tieWordEmbeddings: true,
      qkvBias: true,
      outputBias: false,
      qkNorm: false,
      dtype: 'bfloat16',
      bosTokenId: 151643,
      eosTokenIds: [151645],
    });
  });

  it('normalizes a Qwen3 config: explicit head_dim ≠ hidden/heads, q/k norm, no bias', () => {
    const c = parseModelConfig(QWEN3_06B);
    expect(c).toMatchObject({
      architecture: 'Qwen3ForCausalLM',
      family: 'qwen3',
      headDim: 128,
      numHeads: 16,
      numKvHeads: 8,
      qkvBias: false,
      outputBias: false,
      qkNorm: true,
      maxPositionEmbeddings: 40960,
    });
    expect(c.headDim).not.toBe(c.hiddenSize / c.numHeads);
    expect(parseModelConfig({ ...QWEN3_06B, attention_bias: true })).toMatchObject({ qkvBias: true, outputBias: true });
  });

  it('reads transformers 5 fields: dtype, rope_parameters, eos list, untied embeddings', () => {
    const { torch_dtype: _t, rope_theta: _r, ...rest } = QWEN25_05B;
    void _t;
    void _r;
    const c = parseModelConfig({
      ...rest,
      dtype: 'float32',
      rope_parameters: { rope_theta: 5000, rope_type: 'default' },
      eos_token_id: [151645, 151643],
      tie_word_embeddings: false,
      layer_types: ['full_attention'],
    });
    expect(c).toMatchObject({ dtype: 'float32', ropeTheta: 5000, eosTokenIds: [151645, 151643], tieWordEmbeddings: false });
  });

  it('rejects other architectures by name, and a missing architectures field', () => {
    expect(errorOf({ ...QWEN25_05B, architectures: ['LlamaForCausalLM'] })).toBe(
      'config.json: unsupported architecture "LlamaForCausalLM" (supported: Qwen2ForCausalLM, Qwen3ForCausalLM)',
    );
    const { architectures: _a, ...noArch } = QWEN3_06B;
    void _a;
    expect(errorOf(noArch)).toMatch(/^config\.json: missing field "architectures"/);
  });

  it('names the field of invalid numbers and inconsistent head counts', () => {
    expect(errorOf({ ...QWEN25_05B, hidden_size: -896 })).toBe('config.json: field "hidden_size" must be a positive integer, got -896');
    expect(errorOf({ ...QWEN25_05B, num_hidden_layers: 2.5 })).toMatch(/field "num_hidden_layers" must be a positive integer, got 2.5/);
    expect(errorOf({ ...QWEN25_05B, vocab_size: undefined })).toMatch(/missing field "vocab_size"/);
    expect(errorOf({ ...QWEN25_05B, num_key_value_heads: 3 })).toMatch(/"num_attention_heads" \(14\) must be a multiple of "num_key_value_heads" \(3\)/);
    expect(errorOf({ ...QWEN25_05B, hidden_size: 900 })).toMatch(/"hidden_size" \(900\) must be divisible by "num_attention_heads" \(14\)/);
    expect(errorOf({ ...QWEN25_05B, rms_norm_eps: 0 })).toMatch(/field "rms_norm_eps" must be a positive number/);
    expect(errorOf({ ...QWEN25_05B, eos_token_id: [151645, 999999] })).toMatch(/field "eos_token_id" \(999999\) is not below vocab_size/);
    expect(errorOf({ ...QWEN25_05B, torch_dtype: 'int8' })).toMatch(/field "torch_dtype" must be float32, float16 or bfloat16, got "int8"/);
    expect(errorOf({ ...QWEN25_05B, use_sliding_window: true })).toMatch(/"use_sliding_window" is true/);
    expect(errorOf({ ...QWEN25_05B, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toMatch(/unsupported rope_scaling/);
    expect(errorOf('{not json')).toMatch(/^config\.json: not valid JSON/);
  });
});

describe('expected tensors and sizes', () => {
  it('lists Qwen2 tensors with q/k/v biases in [out, in] layout', () => {
    const c = parseModelConfig(QWEN25_05B);
    const byName = new Map(expectedTensors(c).map((t) => [t.name, t.shape]));
    expect(byName.get('model.embed_tokens.weight')).toEqual([151936, 896]);
    expect(byName.get('model.layers.0.self_attn.q_proj.weight')).toEqual([896, 896]);
    expect(byName.get('model.layers.0.self_attn.k_proj.weight')).toEqual([128, 896]);
    expect(byName.get('model.layers.23.self_attn.v_proj.bias')).toEqual([128]);
    expect(byName.get('model.layers.0.mlp.down_proj.weight')).toEqual([896, 4864]);
    expect(byName.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(byName.has('model.layers.0.self_attn.q_norm.weight')).toBe(false);
    expect(byName.has('lm_head.weight')).toBe(false);
    expect(byName.size).toBe(1 + 24 * 12 + 1);
  });

  it('lists Qwen3 tensors with q/k norms of head_dim and an lm_head when untied', () => {
    const c = parseModelConfig({ ...QWEN3_06B, tie_word_embeddings: false });
    const byName = new Map(expectedTensors(c).map((t) => [t.name, t.shape]));
    expect(byName.get('model.layers.0.self_attn.q_proj.weight')).toEqual([2048, 1024]);
    expect(byName.get('model.layers.0.self_attn.o_proj.weight')).toEqual([1024, 2048]);
    expect(byName.get('model.layers.27.self_attn.k_norm.weight')).toEqual([128]);
    expect(byName.has('model.layers.0.self_attn.q_proj.bias')).toBe(false);
    expect(byName.get('lm_head.weight')).toEqual([151936, 1024]);
  });

  it('counts parameters as published (Qwen2.5-0.5B: 494,032,768) and estimates bytes', () => {
    const c = parseModelConfig(QWEN25_05B);
    expect(paramCount(c)).toBe(494_032_768);
    expect(weightBytes(c, 16)).toBe(988_065_536);
    expect(weightBytes(c, 4.5)).toBe(Math.ceil((494_032_768 * 4.5) / 8));
    expect(paramCount(parseModelConfig(QWEN3_06B))).toBe(596_049_920);
    expect(paramCount(parseModelConfig({ ...QWEN3_06B, tie_word_embeddings: false }))).toBe(596_049_920 + 151936 * 1024);
    expect(() => weightBytes(c, 0)).toThrow(/bitsPerWeight must be positive/);
  });
});
