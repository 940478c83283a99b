// Decode speed of the demo agent at batch 1 through the CLI's engine path (Dawn; SwiftShader on a
// machine without a GPU): prefill a real agent prompt (a test-split scenario rendered with its
// tools by the model's chat template), then decode a fixed number of tokens (no stop ids).
//
//   npx tsx tools/demo-agent/decode-speed.ts [--model models/demo-agent] [--tokens 64] [--quant f32]
import { generate } from '../../src/engine/generate';
import { cliTokenizer, createCliEngine } from '../../src/cli/engine-setup';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';
import type { ToolSpec } from '../../src/hf-io/tokenizer';
import type { WeightFormat } from '../../src/engine/quant/formats';
import { Sandbox, SYSTEM_PROMPT, generateScenarios } from '../../src/sandbox/index';
import { relaunchWithDawnEnvironment } from '../../src/node/dawn-env';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  relaunchWithDawnEnvironment(); // LD_LIBRARY_PATH must be set before Dawn loads
  const dir = arg('model', 'models/demo-agent');
  const tokens = Number(arg('tokens', '64'));
  const format = arg('quant', 'f32') as WeightFormat;
  const model = await loadModel(new NodeDirSource(dir));
  const tokenizer = await cliTokenizer(model, dir);
  const scenario = generateScenarios({ split: 'test', count: 1 })[0];
  const tools = new Sandbox(scenario).schemas() as unknown as ToolSpec[];
  const promptIds = tokenizer.encodeChat(
    [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: scenario.user },
    ],
    { tools, addGenerationPrompt: true },
  );
  const engine = await createCliEngine(model, { format, maxContext: promptIds.length + tokens + 8 });
  try {
    const run = async () => {
      const stamps: number[] = [];
      const t0 = performance.now();
      await generate(
        engine,
        [{ promptIds, maxNewTokens: tokens, stopIds: [] }],
        { greedy: true },
        {
          onToken: () => {
            stamps.push(performance.now());
          },
        },
      );
      return { prefillS: (stamps[0] - t0) / 1000, decodeTokS: (stamps.length - 1) / ((stamps[stamps.length - 1] - stamps[0]) / 1000) };
    };
    await run(); // warm-up: shader compiles
    const r = await run();
    console.log(
      JSON.stringify({
        model: dir,
        quant: format,
        batch: 1,
        prompt_tokens: promptIds.length,
        decode_tokens: tokens,
        prefill_tok_s: +(promptIds.length / r.prefillS).toFixed(1),
        decode_tok_s: +r.decodeTokS.toFixed(1),
      }),
    );
  } finally {
    engine.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
