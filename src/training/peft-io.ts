// Reading PEFT adapter tensors (adapter_model.safetensors) into the name → tensor map LoraAdapter loads.
import type { ByteSource } from '../model/byte-source';
import { SafetensorsFile, tensorToFloat32 } from '../model/safetensors';

export async function readPeftTensors(source: ByteSource): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const file = await SafetensorsFile.open(source);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const name of file.names) {
    const t = await file.tensor(name);
    out.set(name, { shape: t.shape, values: tensorToFloat32(t) });
  }
  return out;
}

export interface PeftAdapterConfig {
  rank: number;
  alpha: number;
  targets: string[];
}

/** Reads adapter_config.json (PEFT) and checks it is a LoRA adapter we can apply. */
export function parsePeftAdapterConfig(text: string, fileName = 'adapter_config.json'): PeftAdapterConfig {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${fileName}: not valid JSON (${(e as Error).message})`);
  }
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') throw new Error(`${fileName}: peft_type is ${String(json.peft_type)}, only LORA adapters are supported`);
  const rank = json.r;
  const alpha = json.lora_alpha;
  if (!Number.isInteger(rank) || (rank as number) < 1) throw new Error(`${fileName}: "r" must be a positive integer, got ${JSON.stringify(rank)}`);
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new Error(`${fileName}: "lora_alpha" must be a positive number, got ${JSON.stringify(alpha)}`);
  const targets = json.target_modules;
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string')) throw new Error(`${fileName}: "target_modules" must be a list of module names`);
  if (json.use_dora === true) throw new Error(`${fileName}: DoRA adapters are not supported`);
  if (json.use_rslora === true) throw new Error(`${fileName}: rsLoRA scaling is not supported`);
  return { rank: rank as number, alpha, targets: targets as string[] };
}
