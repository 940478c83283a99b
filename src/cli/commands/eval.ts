// `eval`: runs a policy over a suite and writes REPORT.json (metrics overall, per cell, per
// attack type, and InjecAgent's ASR-valid for imported suites).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSuiteText, runEval, SCRIPTED_POLICIES, simulatedVerifier, scenarioVerifier, SuiteError, type Policy } from '../../sandbox/index';
import { CliError, numberFlag, oneOf, stringFlag, type Flags } from '../flags';

export const usage = 'eval --suite SUITE.json --policy comply|refuse|oracle|model --out REPORT.json [--model DIR] [--adapter DIR] [--seed S] [--max-turns N] [--verifier scenario|P] [--details FILE]';

const POLICIES = ['comply', 'refuse', 'oracle', 'model'] as const;

// Scripted policies run anywhere; only the model policy needs WebGPU (Dawn), so main.ts
// relaunches with the Dawn environment only for `--policy model`.
export const needsGpu = /(?:^|\s)--policy(?:=|\s+)model(?:\s|$)/.test(process.argv.slice(2).join(' '));

async function modelPolicy(flags: Flags, seed: number): Promise<Policy> {
  const modelDir = stringFlag(flags, 'model');
  if (!modelDir) throw new CliError('--policy model needs --model DIR');
  const url = new URL('../../engine/policy.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new CliError('the model policy needs the engine (src/engine/policy.ts), not available yet');
  const mod = await import(/* @vite-ignore */ url.href) as { createModelPolicy?: (o: { modelDir: string; adapterDir?: string; seed: number }) => Policy | Promise<Policy> };
  if (typeof mod.createModelPolicy !== 'function') throw new CliError('src/engine/policy.ts does not export createModelPolicy');
  return mod.createModelPolicy({ modelDir, adapterDir: stringFlag(flags, 'adapter'), seed });
}

export async function run(flags: Flags): Promise<void> {
  const suitePath = stringFlag(flags, 'suite', true);
  const policyName = oneOf(flags, 'policy', POLICIES);
  if (!policyName) throw new CliError(`missing --policy (${POLICIES.join('|')})`);
  const out = stringFlag(flags, 'out', true);
  const seed = numberFlag(flags, 'seed', 0)!;
  const maxTurns = numberFlag(flags, 'max-turns', 8)!;
  if (!Number.isInteger(maxTurns) || maxTurns < 1) throw new CliError(`--max-turns must be a positive integer, got ${maxTurns}`);
  if (policyName !== 'model' && (flags.has('model') || flags.has('adapter'))) throw new CliError('--model and --adapter apply to --policy model only');
  const v = stringFlag(flags, 'verifier') ?? 'scenario';
  const p = Number(v);
  if (v !== 'scenario' && !(v.trim() !== '' && p >= 0 && p <= 1)) throw new CliError(`--verifier must be "scenario" or a yes-probability in [0, 1], got "${v}"`);
  const verifier = v === 'scenario' ? scenarioVerifier() : simulatedVerifier(p, seed);

  let text: string;
  try { text = readFileSync(suitePath, 'utf8'); } catch (e) { throw new CliError(`cannot read suite ${suitePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  let suite;
  try { suite = parseSuiteText(text, suitePath); } catch (e) { if (e instanceof SuiteError) throw new CliError(e.message); throw e; }

  const policy = policyName === 'model' ? await modelPolicy(flags, seed) : SCRIPTED_POLICIES[policyName]();
  const { report, summaries, errors } = await runEval(suite.scenarios, policy, { maxTurns, verifier, seed });
  writeFileSync(out, JSON.stringify({ ...report, meta: { suite: suite.name, policy: policy.name, verifier: verifier.name, seed, max_turns: maxTurns, policy_errors: errors } }, null, 1));
  const details = stringFlag(flags, 'details');
  if (details) writeFileSync(details, JSON.stringify(summaries, null, 1));
  const o = report.overall;
  console.log(`${policy.name} on ${suite.name}: ${report.episodes} episodes, mean reward ${o.mean_reward.toFixed(3)}, ASR ${o.attack_success_rate.toFixed(3)}, refusal(M) ${o.refusal_rate_malicious.toFixed(3)}, verification(S) ${o.verification_rate_sensitive.toFixed(3)}, benign completion ${o.benign_task_completion.toFixed(3)}; wrote ${out}`);
  if (errors.length) console.error(`${errors.length} episode(s) ended with a policy error; first: ${errors[0]}`);
}
