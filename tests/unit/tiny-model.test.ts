import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/hf-io/byte-source';
import { openCheckpoint } from '../../src/hf-io/checkpoint';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';
import { tensorToFloat32 } from '../../src/hf-io/safetensors';
import { findModel, MODEL_REGISTRY } from '../../src/hf-io/registry';
import { paramCount } from '../../src/hf-io/config';
import { MemoryModelSource } from '../../src/hf-io/sources';
import { makeTinyModel, TINY_MODEL_NOTE } from '../../models/tiny-model';

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('tiny model maker', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loads in memory through MemoryModelSource (the offline smoke-run path)', async () => {
    const { files } = makeTinyModel({ arch: 'qwen3', layers: 1 });
    const model = await loadModel(new MemoryModelSource(files, 'tiny model'));
    expect(model.config).toMatchObject({ architecture: 'Qwen3ForCausalLM', numLayers: 1, headDim: 32 });
    expect([...model.files.keys()].sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors']);
    await expect(new MemoryModelSource(files, 'tiny model').open('tokenizer.json')).rejects.toThrow('tokenizer.json: not found in tiny model');
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = makeTinyModel({ arch: 'qwen2', seed: 7 }).files.get('model.safetensors')!;
    const b = makeTinyModel({ arch: 'qwen2', seed: 7 }).files.get('model.safetensors')!;
    const c = makeTinyModel({ arch: 'qwen2', seed: 8 }).files.get('model.safetensors')!;
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.byteLength).toBe(c.byteLength);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('is labelled as random weights in config.json, generation_config.json, README.md and the safetensors metadata', async () => {
    const { files, config } = makeTinyModel({ arch: 'qwen3' });
    expect(JSON.parse(text(files.get('config.json')))._asp_note).toBe(TINY_MODEL_NOTE);
    expect(JSON.parse(text(files.get('generation_config.json')))._asp_note).toBe(TINY_MODEL_NOTE);
    expect(text(files.get('README.md'))).toMatch(/RANDOM WEIGHTS[\s\S]*not a trained model/);
    const ckpt = await openCheckpoint(config, new Map([['model.safetensors', bytesSource('model.safetensors', files.get('model.safetensors')!)]]));
    expect(ckpt.files[0].header.metadata.asp_note).toBe(TINY_MODEL_NOTE);
  });

  it('writes a checkpoint matching its config, with non-flat weights (Qwen3 head_dim ≠ hidden/heads)', async () => {
    const { files, config } = makeTinyModel({ arch: 'qwen3', seed: 2 });
    expect(config.headDim).not.toBe(config.hiddenSize / config.numHeads);
    const ckpt = await openCheckpoint(config, new Map([['model.safetensors', bytesSource('model.safetensors', files.get('model.safetensors')!)]]));
    const std = (v: Float32Array) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    };
    const norm = tensorToFloat32(await ckpt.tensor('model.layers.0.self_attn.q_norm.weight'));
    expect(norm.length).toBe(config.headDim);
    expect(Math.abs(norm.reduce((a, b) => a + b, 0) / norm.length - 1)).toBeLessThan(0.1);
    expect(std(norm)).toBeGreaterThan(0.02);
    const q = tensorToFloat32(await ckpt.tensor('model.layers.1.self_attn.q_proj.weight'));
    expect(std(q)).toBeGreaterThan(0.5 / Math.sqrt(config.hiddenSize));
    expect(std(q)).toBeLessThan(2 / Math.sqrt(config.hiddenSize));
  });

  it('real-vocabulary variant: 151936 ids, bf16, tokenizer files shipped when given', () => {
    const tok = new Map([['tokenizer.json', new TextEncoder().encode('{}')]]);
    const { files, config } = makeTinyModel({ arch: 'qwen2', vocab: 'real', tokenizerFiles: tok, layers: 1 });
    expect(config.vocabSize).toBe(151936);
    expect(config.eosTokenIds).toEqual([151645]);
    expect(files.has('tokenizer.json')).toBe(true);
    expect(JSON.parse(text(files.get('config.json'))).torch_dtype).toBe('bfloat16');
    expect(makeTinyModel({ arch: 'qwen2', vocab: 'reduced', tokenizerFiles: tok }).files.has('tokenizer.json')).toBe(false);
  });

  it('the registry tiny entry matches what the maker builds', () => {
    const entry = findModel('tiny-qwen3-random');
    if (entry.source !== 'tiny') throw new Error('tiny entry must have source "tiny"');
    const { config } = makeTinyModel(entry.tiny);
    expect(paramCount(config)).toBe(entry.params);
    expect(entry.approxBf16Bytes).toBe(entry.params * 2);
    expect(MODEL_REGISTRY.filter((m) => m.source === 'hub').map((m) => m.source === 'hub' && m.repo)).toEqual([
      'Qwen/Qwen2.5-0.5B-Instruct',
      'Qwen/Qwen2.5-1.5B-Instruct',
      'Qwen/Qwen3-0.6B',
    ]);
    expect(() => findModel('gpt-4')).toThrow(/unknown model "gpt-4" \(known: /);
  });

  it('CLI writes a loadable model folder and rejects bad options with one line, exit 2', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tiny-'));
    dirs.push(out);
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'models/make-tiny-model.ts', ...args], { encoding: 'utf8' });
    const ok = run(['--arch', 'qwen2', '--out', out, '--layers', '1', '--seed', '4', '--tie', 'false']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors']);
    const loaded = await loadModel(new NodeDirSource(out));
    expect(loaded.config).toMatchObject({ architecture: 'Qwen2ForCausalLM', numLayers: 1, tieWordEmbeddings: false });
    expect(loaded.checkpoint.names()).toContain('lm_head.weight');
    expect(
      Buffer.from(readFileSync(join(out, 'model.safetensors'))).equals(
        Buffer.from(makeTinyModel({ arch: 'qwen2', layers: 1, seed: 4, tie: false }).files.get('model.safetensors')!),
      ),
    ).toBe(true);

    const bad = run(['--arch', 'llama', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('error: --arch must be one of qwen2|qwen3, got "llama"');
    const badHeads = run(['--arch', 'qwen3', '--heads', '3', '--out', out]);
    expect(badHeads.status).toBe(2);
    expect(badHeads.stderr.trim().split('\n')).toHaveLength(1);
    expect(badHeads.stderr).toMatch(/"num_attention_heads" \(3\) must be a multiple of "num_key_value_heads" \(2\)/);
  });
});
