// The committed demo agent (models/demo-agent, issue #13) loads through the same paths as every
// model: the CLI's model folder opener (loadModel + the model's own tokenizer files through
// loadTokenizer, family qwen2.5 with Qwen2.5-Instruct's chat template), the model-turn codec and
// the engine; a train prompt tokenizes as in Python and greedy decoding equals transformers'
// (tests/fixtures/demo-agent-greedy.json, from tools/demo-agent/reference_greedy.py). Its agent
// behaviour is measured by `eval` (models/demo-agent/README.md), not here.
import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { TurnCodec } from '../../src/agent/codec';
import { cliTokenizer, createCliEngine } from '../../src/cli/engine-setup';
import type { QwenEngine } from '../../src/engine/engine';
import { generate } from '../../src/engine/generate';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';
import { paramCount, parseModelConfig } from '../../src/hf-io/config';
import { findModel } from '../../src/hf-io/registry';
import { loadTokenizer, type ToolSpec } from '../../src/hf-io/tokenizer';
import { generateScenarios, Sandbox, SYSTEM_PROMPT } from '../../src/sandbox/index';
import { bundledTokenizerFiles } from '../../models/tokenizers/bundled';

const DIR = 'models/demo-agent';
const read = (f: string) => readFileSync(`${DIR}/${f}`, 'utf8');
const reference = JSON.parse(readFileSync('tests/fixtures/demo-agent-greedy.json', 'utf8')) as { scenario: string; prompt_ids: number[]; greedy_ids: number[] };
let engine: QwenEngine | undefined;
afterAll(() => engine?.destroy());

describe('demo agent', () => {
  it('is a small Qwen2 with a Qwen2.5-family tokenizer and chat template, under 25 MB', async () => {
    const config = parseModelConfig(JSON.parse(read('config.json')));
    expect(config.architecture).toBe('Qwen2ForCausalLM');
    expect(config.tieWordEmbeddings).toBe(true);
    const tokenizer = loadTokenizer({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
    expect(tokenizer.family).toBe('qwen2.5');
    expect(tokenizer.vocabSize).toBe(config.vocabSize);
    expect(tokenizer.chatTemplate).toBe((await bundledTokenizerFiles('qwen2.5')).tokenizerConfig.chat_template);
    expect(config.eosTokenIds).toContain(tokenizer.tokenId('<|im_end|>'));
    const bytes = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'README.md'].reduce(
      (n, f) => n + statSync(`${DIR}/${f}`).size,
      0,
    );
    expect(bytes).toBeLessThanOrEqual(25 * 1024 * 1024);
    // Its registry entry (offered offline, nothing to download) describes this folder.
    const entry = findModel('demo-agent');
    expect(entry.source === 'bundled' && entry.path).toBe(DIR);
    expect(entry.architecture).toBe(config.architecture);
    expect(entry.params).toBe(paramCount(config));
    expect(entry.approxBf16Bytes).toBe(2 * entry.params);
    expect(entry.label).toMatch(/protocol demo/);
  });

  it('prompts and decodes like Hugging Face: the rendered train prompt tokenizes to the same ids, greedy ids equal transformers', async () => {
    const model = await loadModel(new NodeDirSource(DIR));
    const tokenizer = await cliTokenizer(model, DIR);
    const scenario = generateScenarios({ split: 'train', count: 1, seed: 0 })[0];
    expect(scenario.id).toBe(reference.scenario);
    const tools = new Sandbox(scenario).schemas() as unknown as ToolSpec[];
    const codec = new TurnCodec({ tokenizer, modelEosIds: model.config.eosTokenIds });
    const promptIds = tokenizer.encode(
      codec.renderText(
        [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: scenario.user },
        ],
        tools,
      ),
    );
    expect(promptIds).toEqual(reference.prompt_ids);
    engine = await createCliEngine(model, { format: 'f32', maxContext: promptIds.length + reference.greedy_ids.length });
    const [out] = await generate(engine, [{ promptIds, maxNewTokens: reference.greedy_ids.length, stopIds: [] }], { greedy: true });
    expect(out.ids).toEqual(reference.greedy_ids);
  });
});
