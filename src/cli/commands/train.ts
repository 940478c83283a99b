// npm run cli -- train --model DIR [--quant q4|q8|f32] [--suite SUITE.json | --builtin train] --steps N
//   --out ADAPTER_DIR [--resume ADAPTER_DIR] [--json-log FILE] [--lr X] [--group-size G]
//   [--prompts-per-step P] [--max-new-tokens N] [--temperature T] [--kl-beta B] [--rank R]
//   [--alpha A] [--seed S] [--max-turns N] [--verifier scenario|P] [--max-context N] [--save-every N]
//   [--no-share-prefix]   (train each rollout as its own row instead of packing a group over its prompt)
// Runs GRPO on sandbox scenarios and writes a PEFT adapter (loadable with PeftModel.from_pretrained),
// plus trainer_state.json (step, config, metrics history) and optimizer.safetensors (AdamW m, v) so
// --resume continues exactly. --json-log appends one JSON line of metrics per step.
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromFloat32 } from '../../hf-io/dtypes';
import { nodeFileSource } from '../../hf-io/node-sources';
import { writeSafetensors } from '../../hf-io/safetensors-writer';
import { generateScenarios, parseSuiteText } from '../../sandbox/index';
import { resolveGrpoConfig, type GrpoConfig } from '../../training/grpo/config';
import { SandboxEnvironment } from '../../training/grpo/sandbox-env';
import { GrpoTrainer } from '../../training/grpo/trainer';
import { LoraAdapter } from '../../training/model/lora-adapter';
import { exportPeftAdapter } from '../../peft/export';
import { readPeftTensors } from '../../peft/import';
import { openPeftAdapter } from '../adapter-setup';
import { cliTokenizer, createCliEngine, openModelDir, quantFlag } from '../engine-setup';
import { LIMITS, parseJsonBounded } from '../../sandbox/limits';
import { CliError, inputDirFlag, numberFlag, oneOf, outputFileFlag, readTextFile, stringFlag, type Flags } from '../flags';

export const usage =
  'train --model DIR [--quant q4|q8|f32] [--suite SUITE.json | --builtin train] --steps N --out ADAPTER_DIR [--resume ADAPTER_DIR] [--json-log FILE] [--lr X] [--group-size G] [--prompts-per-step P] [--max-new-tokens N] [--temperature T] [--kl-beta B] [--rank R] [--alpha A] [--seed S] [--max-turns N] [--verifier scenario|P] [--max-context N] [--save-every N]';
export const needsGpu = true;

function scenariosFrom(flags: Flags) {
  const suitePath = stringFlag(flags, 'suite');
  const builtin = oneOf(flags, 'builtin', ['train'] as const);
  if (!!suitePath === !!builtin) throw new CliError('give exactly one of --suite SUITE.json or --builtin train');
  if (builtin) return generateScenarios({ split: 'train' });
  if (!existsSync(suitePath!)) throw new CliError(`--suite ${suitePath}: file not found`);
  const text = readTextFile(suitePath!, 'suite', LIMITS.suiteChars);
  try {
    return parseSuiteText(text, suitePath!).scenarios;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

type ResumeState = { step: number; optimizer_step: number; config: GrpoConfig; metrics: [] };

/** trainer_state.json of a folder written by `train --out`, checked field by field. */
function readResumeState(dir: string): ResumeState {
  const fail = (what: string): never => {
    throw new CliError(`--resume ${dir}: ${what}`);
  };
  for (const f of ['trainer_state.json', 'optimizer.safetensors'])
    if (!existsSync(join(dir, f))) fail(`${f} is missing (give a folder written by train --out)`);
  const r = parseJsonBounded(readTextFile(join(dir, 'trainer_state.json'), '--resume file', LIMITS.suiteChars), {
    maxChars: LIMITS.suiteChars,
    maxDepth: LIMITS.suiteDepth,
  });
  if (!r.ok) return fail(`trainer_state.json ${r.error}`);
  const st = r.value as Partial<ResumeState> | null;
  if (typeof st !== 'object' || st === null || Array.isArray(st)) return fail('trainer_state.json must be a JSON object');
  for (const k of ['step', 'optimizer_step'] as const)
    if (!Number.isSafeInteger(st[k]) || (st[k] as number) < 0) fail(`trainer_state.json: "${k}" must be a non-negative integer`);
  if (typeof st.config !== 'object' || st.config === null || Array.isArray(st.config)) fail('trainer_state.json: "config" must be an object');
  const targets = (st.config as { lora?: { targets?: unknown } }).lora?.targets;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string')) fail('trainer_state.json: "config.lora.targets" must be a list of module names');
  if (!Array.isArray(st.metrics)) fail('trainer_state.json: "metrics" must be a list');
  return st as ResumeState;
}

export async function saveAdapter(dir: string, trainer: GrpoTrainer, config: GrpoConfig, modelDir: string) {
  mkdirSync(dir, { recursive: true });
  const tensors = await trainer.adapter.read('params');
  const files = exportPeftAdapter({
    tensors,
    rank: config.lora.rank,
    alpha: config.lora.alpha,
    targetModules: config.lora.targets,
    baseModel: { repo: modelDir },
  });
  for (const [name, bytes] of Object.entries(files)) if (bytes) writeFileSync(join(dir, name), bytes);
  const state = await trainer.optimizer.exportState();
  const moments = Object.keys(state.m).flatMap((name) => [
    { name: `m.${name}`, dtype: 'F32' as const, shape: [state.m[name].length], data: fromFloat32(state.m[name], 'F32') },
    { name: `v.${name}`, dtype: 'F32' as const, shape: [state.v[name].length], data: fromFloat32(state.v[name], 'F32') },
  ]);
  writeFileSync(join(dir, 'optimizer.safetensors'), writeSafetensors(moments, { step: String(state.step) }));
  writeFileSync(
    join(dir, 'trainer_state.json'),
    JSON.stringify({ step: trainer.stepCount, optimizer_step: state.step, config, metrics: trainer.history }, null, 1),
  );
}

export async function run(flags: Flags) {
  const steps = numberFlag(flags, 'steps');
  if (steps === undefined || !Number.isInteger(steps) || steps < 1) throw new CliError('--steps N (a positive integer) is required');
  const out = stringFlag(flags, 'out', true);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new CliError(`--out ${out} is a file; give a folder for the adapter`);
  const resume = inputDirFlag(flags, 'resume');
  const jsonLog = outputFileFlag(flags, 'json-log');
  const modelDir = stringFlag(flags, 'model', true);
  const scenarios = scenariosFrom(flags);
  const verifierFlag = stringFlag(flags, 'verifier') ?? 'scenario';
  const verifier = verifierFlag === 'scenario' ? ('scenario' as const) : Number(verifierFlag);
  if (verifier !== 'scenario' && !(verifier >= 0 && verifier <= 1))
    throw new CliError(`--verifier must be "scenario" or a probability in [0, 1], got "${verifierFlag}"`);
  const resumedState = resume ? readResumeState(resume) : undefined;
  const resumed = resume ? await openPeftAdapter(resume) : undefined;
  let config: GrpoConfig;
  try {
    config = resolveGrpoConfig({
      ...resumedState?.config,
      lr: numberFlag(flags, 'lr', resumedState?.config.lr ?? 1e-4),
      groupSize: numberFlag(flags, 'group-size', resumedState?.config.groupSize ?? 4),
      promptsPerStep: numberFlag(flags, 'prompts-per-step', resumedState?.config.promptsPerStep ?? 2),
      maxNewTokens: numberFlag(flags, 'max-new-tokens', resumedState?.config.maxNewTokens ?? 128),
      temperature: numberFlag(flags, 'temperature', resumedState?.config.temperature ?? 1),
      klBeta: numberFlag(flags, 'kl-beta', resumedState?.config.klBeta ?? 0.04),
      seed: numberFlag(flags, 'seed', resumedState?.config.seed ?? 0),
      maxSequenceTokens: numberFlag(flags, 'max-context', resumedState?.config.maxSequenceTokens ?? 2048),
      microBatch: 1,
      sharePrefix: !flags.has('no-share-prefix'),
      lora: {
        rank: resumed?.config.rank ?? numberFlag(flags, 'rank', 16)!,
        alpha: resumed?.config.alpha ?? numberFlag(flags, 'alpha', 32)!,
        targets: resumedState?.config.lora.targets ?? ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const maxTurns = numberFlag(flags, 'max-turns', 3)!;
  const saveEvery = numberFlag(flags, 'save-every', 0)!;
  const model = await openModelDir(flags);
  const tokenizer = await cliTokenizer(model, modelDir);
  const engine = await createCliEngine(model, {
    format: quantFlag(flags),
    maxContext: config.maxSequenceTokens,
    maxBatch: config.groupSize * config.promptsPerStep,
  });
  const adapter = new LoraAdapter(engine.ctx, engine.config, config.lora);
  if (resumed) adapter.load(resumed.tensors);
  else adapter.initialise(config.seed + 1);
  const env = new SandboxEnvironment({
    scenarios,
    tokenizer,
    maxNewTokens: config.maxNewTokens,
    maxTurns,
    verifier,
    maxPromptTokens: config.maxSequenceTokens - 1,
    modelEosIds: engine.config.eosTokenIds,
  });
  const trainer = new GrpoTrainer(engine, adapter, env, config);
  try {
    if (resume && resumedState) {
      const moments = await readPeftTensors(await nodeFileSource(join(resume, 'optimizer.safetensors')));
      const m: Record<string, Float32Array> = {};
      const v: Record<string, Float32Array> = {};
      for (const [name, t] of moments) (name.startsWith('m.') ? m : v)[name.slice(2)] = t.values;
      trainer.optimizer.importState({ step: resumedState.optimizer_step, m, v });
      trainer.stepCount = resumedState.step;
      trainer.history.push(...resumedState.metrics);
    }
    const last = trainer.stepCount + steps;
    while (trainer.stepCount < last) {
      const metrics = await trainer.step();
      const line = JSON.stringify(metrics);
      if (jsonLog) appendFileSync(jsonLog, line + '\n');
      console.error(
        `step ${metrics.step}: reward ${metrics.reward_mean.toFixed(3)} ± ${metrics.reward_std.toFixed(3)}, kl ${metrics.kl.toFixed(4)}, grad norm ${metrics.grad_norm.toFixed(3)}, ${metrics.time_step_s.toFixed(1)} s`,
      );
      if (saveEvery > 0 && trainer.stepCount % saveEvery === 0) await saveAdapter(out, trainer, config, modelDir);
    }
    await saveAdapter(out, trainer, config, modelDir);
  } finally {
    trainer.destroy();
    adapter.destroy();
    engine.destroy();
  }
}
