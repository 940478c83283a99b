// PEFT's tensor names for LoRA weights on a Qwen2/Qwen3 decoder, as they appear in
// adapter_model.safetensors and as the checkpoint store keys the adapter and its AdamW moments.

const ATTENTION_MODULES = new Set(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
const MLP_MODULES = new Set(['gate_proj', 'up_proj', 'down_proj']);

/** e.g. (3, 'q_proj', 'A') → "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight". */
export function peftLoraTensorName(layer: number, module: string, which: 'A' | 'B'): string {
  if (!Number.isSafeInteger(layer) || layer < 0) throw new RangeError(`peftLoraTensorName: layer ${layer} is not a non-negative integer`);
  const block = ATTENTION_MODULES.has(module) ? 'self_attn' : MLP_MODULES.has(module) ? 'mlp' : undefined;
  if (!block) throw new RangeError(`peftLoraTensorName: unknown target module '${module}' (expected q/k/v/o_proj or gate/up/down_proj)`);
  return `base_model.model.model.layers.${layer}.${block}.${module}.lora_${which}.weight`;
}
