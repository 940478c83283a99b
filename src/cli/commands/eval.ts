// `eval`: runs a policy over a suite and writes REPORT.json (metrics overall, per cell, per
// attack type, and InjecAgent's ASR-valid for imported suites).
import { writeFileSync } from 'node:fs';
import { parseSuiteText, runEval, SCRIPTED_POLICIES, simulatedVerifier, scenarioVerifier, SuiteError } from '../../sandbox/index';
import { benchmarkEvalFlags, finishBenchmarkEval } from '../benchmark-report';
import { LIMITS } from '../../sandbox/limits';
import { boolFlag, CliError, numberFlag, oneOf, outputFileFlag, readTextFile, stringFlag, type Flags } from '../flags';
import type { NodeModelPolicy } from '../model-policy-node';

export const usage =
  'eval --suite SUITE.json --policy comply|refuse|oracle|model --out REPORT.json [--model DIR] [--adapter DIR] [--seed S] [--max-new-tokens N] [--quant f32|q8|q4] [--batch B] [--max-context T] [--greedy] [--max-turns N] [--verifier scenario|P] [--details FILE] [--benchmarks-csv FILE] [--baseline REPORT.json]';

const POLICIES = ['comply', 'refuse', 'oracle', 'model'] as const;

// Scripted policies run anywhere; only the model policy needs WebGPU (Dawn), so main.ts
// relaunches with the Dawn environment only for `--policy model`.
export const needsGpu = /(?:^|\s)--policy(?:=|\s+)model(?:\s|$)/.test(process.argv.slice(2).join(' '));

const MODEL_ONLY_FLAGS = ['model', 'adapter', 'quant', 'max-new-tokens', 'max-context', 'batch', 'greedy'] as const;

function positiveInt(flags: Flags, name: string, fallback: number): number {
  const n = numberFlag(flags, name, fallback)!;
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, got ${n}`);
  return n;
}

async function modelPolicy(flags: Flags, seed: number): Promise<NodeModelPolicy> {
  const modelDir = stringFlag(flags, 'model');
  if (!modelDir) throw new CliError('--policy model needs --model DIR');
  // Loaded only here, so scripted evals never load the engine or Dawn.
  const [{ createModelPolicyFromDir }, { quantFlag }, { DEFAULT_MAX_NEW_TOKENS, DEFAULT_SAMPLING }] = await Promise.all([
    import('../model-policy-node'),
    import('../engine-setup'),
    import('../../agent/model-policy'),
  ]);
  return createModelPolicyFromDir({
    modelDir,
    adapterDir: stringFlag(flags, 'adapter'),
    quant: quantFlag(flags),
    seed,
    maxNewTokens: positiveInt(flags, 'max-new-tokens', DEFAULT_MAX_NEW_TOKENS),
    maxContext: positiveInt(flags, 'max-context', 4096),
    maxBatch: positiveInt(flags, 'batch', 4),
    sampling: boolFlag(flags, 'greedy') ? { greedy: true } : DEFAULT_SAMPLING,
  });
}

export async function run(flags: Flags): Promise<void> {
  const suitePath = stringFlag(flags, 'suite', true);
  const policyName = oneOf(flags, 'policy', POLICIES);
  if (!policyName) throw new CliError(`missing --policy (${POLICIES.join('|')})`);
  const out = outputFileFlag(flags, 'out', true);
  const details = outputFileFlag(flags, 'details');
  const bench = benchmarkEvalFlags(flags);
  const seed = numberFlag(flags, 'seed', 0)!;
  const maxTurns = numberFlag(flags, 'max-turns', 8)!;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) throw new CliError(`--max-turns must be a positive integer, got ${maxTurns}`);
  const stray = MODEL_ONLY_FLAGS.find((f) => flags.has(f));
  if (policyName !== 'model' && stray) throw new CliError(`--${stray} applies to --policy model only`);
  const v = stringFlag(flags, 'verifier') ?? 'scenario';
  const p = Number(v);
  if (v !== 'scenario' && !(v.trim() !== '' && p >= 0 && p <= 1))
    throw new CliError(`--verifier must be "scenario" or a yes-probability in [0, 1], got "${v}"`);
  const verifier = v === 'scenario' ? scenarioVerifier() : simulatedVerifier(p, seed);

  let text: string;
  text = readTextFile(suitePath, 'suite', LIMITS.suiteChars);
  let suite;
  try {
    suite = parseSuiteText(text, suitePath);
  } catch (e) {
    if (e instanceof SuiteError) throw new CliError(e.message);
    throw e;
  }

  const model = policyName === 'model' ? await modelPolicy(flags, seed) : undefined;
  const policy = model ?? SCRIPTED_POLICIES[policyName as Exclude<typeof policyName, 'model'>]();
  // The model policy batches the turns of concurrent episodes into one generate call.
  const concurrency = model ? model.maxBatch : 1;
  let result;
  try {
    result = await runEval(suite.scenarios, policy, { maxTurns, verifier, seed, concurrency });
  } finally {
    model?.destroy();
  }
  const { report, summaries, errors } = result;
  const benchExtra = finishBenchmarkEval(bench, report.benchmarks, console.log);
  writeFileSync(
    out,
    JSON.stringify(
      { ...report, ...benchExtra, meta: { suite: suite.name, policy: policy.name, verifier: verifier.name, seed, max_turns: maxTurns, policy_errors: errors } },
      null,
      1,
    ),
  );
  if (details) writeFileSync(details, JSON.stringify(summaries, null, 1));
  const o = report.overall;
  console.log(
    `${policy.name} on ${suite.name}: ${report.episodes} episodes, mean reward ${o.mean_reward.toFixed(3)}, ASR ${o.attack_success_rate.toFixed(3)}, refusal(M) ${o.refusal_rate_malicious.toFixed(3)}, verification(S) ${o.verification_rate_sensitive.toFixed(3)}, benign completion ${o.benign_task_completion.toFixed(3)}; wrote ${out}`,
  );
  if (errors.length) console.error(`${errors.length} episode(s) ended with a policy error; first: ${errors[0]}`);
}
