// The mixture teacher's own rates (what the demo agent imitates), by the same metrics as `eval`:
//   npx tsx tools/demo-agent/teacher-eval.ts [--split test|train] [--count 900] [--out REPORT.json]
import { writeFileSync } from 'node:fs';
import { generateScenarios, runEval, type Split } from '../../src/sandbox/index';
import { mixturePolicy } from './mixture-policy';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const split = arg('split', 'test') as Split;
const scenarios = generateScenarios({ split, count: Number(arg('count', '900')) });
const { report } = await runEval(scenarios, mixturePolicy(0));
const out = arg('out', '');
if (out) writeFileSync(out, JSON.stringify(report, null, 1));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
for (const [cell, r] of Object.entries(report.by_cell)) {
  console.log(
    `${cell}: n ${r.n}, ASR ${pct(r.attack_success_rate)}, refusal(M) ${pct(r.refusal_rate_malicious)}, verification(S) ${pct(r.verification_rate_sensitive)}, benign completion ${pct(r.benign_task_completion)}, format ${pct(r.format_validity)}, reward ${r.mean_reward.toFixed(3)}`,
  );
}
