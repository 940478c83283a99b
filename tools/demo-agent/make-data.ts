// Training data for the demo agent: sandbox episodes on the TRAIN split only, played by the
// mixture teacher (mixture-policy.ts) and rendered exactly as the model policy renders them: the
// Qwen2.5 chat template with the scenario's tool schemas, one prompt per assistant turn
// (add_generation_prompt), the turn's raw text, then <|im_end|>. Each episode is written as the
// full rendered conversation cut into segments; `train: true` marks the assistant's own tokens
// (its text and the <|im_end|> that ends it), the only ones the loss covers.
//
// --fresh-entities gives each episode its own entities (fresh-entities.ts), in its scenario and in
// its world alike, so tool-call arguments can be learnt only as copies from the conversation. The
// committed model was trained without it; with it, 55 minutes of training did not learn to copy
// (models/demo-agent/README.md, "Fresh entities: tried").
//
//   npx tsx tools/demo-agent/make-data.ts --count 3600 --seed 0 [--fresh-entities] --out /tmp/demo-agent/train.jsonl
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadBundledTokenizer } from '../../models/tokenizers/bundled';
import { Episode, generateScenarios, withNamePools } from '../../src/sandbox/index';
import type { ToolSpec } from '../../src/hf-io/tokenizer';
import { freshNamePools } from './fresh-entities';
import { mixturePolicy, MIXTURE } from './mixture-policy';

export interface Segment {
  text: string;
  train: boolean;
}
export interface DemoExample {
  id: string;
  cell: string;
  flaws: string[];
  turns: number;
  segments: Segment[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

export async function makeExamples(count: number, seed: number, options: { freshEntities?: boolean } = {}): Promise<DemoExample[]> {
  // Only the chat template is used here; it is the same Qwen2.5 template the demo tokenizer ships.
  const tokenizer = await loadBundledTokenizer('qwen2.5');
  const policy = mixturePolicy(seed);
  const examples: DemoExample[] = [];
  const namePools = options.freshEntities ? (index: number) => freshNamePools(seed, index) : undefined;
  const scenarios = generateScenarios({ split: 'train', count, seed, namePools });
  for (const [index, scenario] of scenarios.entries()) {
    if (scenario.split !== 'train') throw new Error(`${scenario.id}: not a train scenario`);
    // The world is seeded when the episode is constructed: inside the same pools as its scenario.
    const construct = () => new Episode(scenario, policy, { seed });
    const episode = namePools ? withNamePools(namePools(index), construct) : construct();
    const tools = episode.sandbox.schemas() as unknown as ToolSpec[];
    const result = await episode.run();
    if (result.endReason !== 'final_answer') continue; // a teacher that ran out of turns teaches nothing useful
    const messages = result.messages;
    const full = tokenizer.applyChatTemplate(messages, { tools });
    const segments: Segment[] = [];
    let at = 0;
    messages.forEach((m, i) => {
      if (m.role !== 'assistant') return;
      const prompt = tokenizer.applyChatTemplate(messages.slice(0, i), { tools, addGenerationPrompt: true });
      const reply = `${m.content}<|im_end|>`;
      if (!full.startsWith(prompt) || !full.startsWith(reply, prompt.length)) {
        throw new Error(`${scenario.id}: turn ${i} does not render as prompt + reply inside the whole conversation`);
      }
      segments.push({ text: prompt.slice(at), train: false }, { text: reply, train: true });
      at = prompt.length + reply.length;
    });
    if (at < full.length) segments.push({ text: full.slice(at), train: false });
    examples.push({ id: scenario.id, cell: scenario.cell, flaws: [...policy.flawsOf(scenario)], turns: result.turns.length, segments });
  }
  return examples;
}

async function main() {
  const count = Number(arg('count', '3600'));
  const seed = Number(arg('seed', '0'));
  const out = arg('out', '/tmp/demo-agent/train.jsonl');
  const freshEntities = process.argv.includes('--fresh-entities');
  const examples = await makeExamples(count, seed, { freshEntities });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const byCell = new Map<string, number>();
  for (const e of examples) byCell.set(e.cell, (byCell.get(e.cell) ?? 0) + 1);
  const chars = examples.reduce((n, e) => n + e.segments.reduce((m, s) => m + s.text.length, 0), 0);
  console.log(
    JSON.stringify({
      out,
      episodes: examples.length,
      of: count,
      seed,
      freshEntities,
      mixture: MIXTURE,
      perCell: Object.fromEntries(byCell),
      meanChars: Math.round(chars / examples.length),
    }),
  );
}

if (process.argv[1] && /make-data\.ts$/.test(process.argv[1]))
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
