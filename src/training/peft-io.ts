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
