// The published configs of the supported hub models (config.json fields that define the shape),
// for the benchmark's random-weight runs and the UI's memory estimates without a download.
// Values from each model's config.json on the Hugging Face hub.
export const MODEL_SHAPES = {
  'qwen2.5-0.5b': {
    architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2,
    vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000.0, rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: 'bfloat16', hidden_act: 'silu', eos_token_id: 151645,
  },
  'qwen2.5-1.5b': {
    architectures: ['Qwen2ForCausalLM'], hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2,
    vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000.0, rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: 'bfloat16', hidden_act: 'silu', eos_token_id: 151645,
  },
  'qwen3-0.6b': {
    architectures: ['Qwen3ForCausalLM'], hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128,
    vocab_size: 151936, max_position_embeddings: 40960, rope_theta: 1000000, rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: 'bfloat16', hidden_act: 'silu', attention_bias: false, eos_token_id: 151645,
  },
  /** Small enough for SwiftShader (~1 GFLOP/s): the default on machines without a GPU. */
  tiny: {
    architectures: ['Qwen2ForCausalLM'], hidden_size: 128, intermediate_size: 352, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2,
    vocab_size: 4096, max_position_embeddings: 1024, rope_theta: 1000000.0, rms_norm_eps: 1e-6, tie_word_embeddings: true, torch_dtype: 'float32', hidden_act: 'silu', eos_token_id: 1,
  },
} as const;

export type ModelShapeName = keyof typeof MODEL_SHAPES;
