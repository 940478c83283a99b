// `scenarios`: writes a scenario suite, either generated (--builtin train|test) or imported
// from InjecAgent test cases (--import injecagent FILE [--tools TOOLS.json]).
import { writeFileSync } from 'node:fs';
import { generateScenarios, importInjecAgent, makeSuite, SuiteError, DEFAULT_COUNTS } from '../../sandbox/index';
import { LIMITS, parseJsonBounded } from '../../sandbox/limits';
import { BENCHMARK_FLAGS, importBenchmarkFromFlags } from '../benchmark-import';
import { BENCHMARK_KINDS } from '../../sandbox/benchmarks/types';
import { CliError, numberFlag, oneOf, outputFileFlag, readTextFile, stringFlag, type Flags } from '../flags';

export const usage =
  'scenarios (--builtin train|test | --import injecagent FILE [--tools TOOLS.json] | --import bfcl|asb|agentdojo|agent-safetybench DIR_OR_FILES... [--tasks-per-agent N|all] [--settings dpi,opi,clean] [--variants naive,...] [--model-name NAME] [--user-name NAME]) --out SUITE.json [--count N] [--seed S]';

function readJson(path: string, what: string): unknown {
  const text = readTextFile(path, what, LIMITS.suiteChars);
  const r = parseJsonBounded(text, { maxChars: LIMITS.suiteChars, maxDepth: LIMITS.suiteDepth });
  if (!r.ok) throw new CliError(`${what} ${path} ${r.error}`);
  return r.value;
}

/** The FILE after `--import injecagent`: the parser keeps a flag's extra values as `name[1]`. */
function importFile(flags: Flags): string {
  const v = flags.get('import[1]');
  if (typeof v !== 'string') throw new CliError('--import injecagent needs a FILE: --import injecagent FILE');
  return v;
}

export async function run(flags: Flags): Promise<void> {
  const out = outputFileFlag(flags, 'out', true);
  const builtin = oneOf(flags, 'builtin', ['train', 'test'] as const);
  const source = oneOf(flags, 'import', ['injecagent', ...BENCHMARK_KINDS] as const);
  if (!!builtin === !!source) throw new CliError('give exactly one of --builtin train|test or --import injecagent|bfcl|asb|agentdojo|agent-safetybench FILES');
  try {
    let suite;
    if (builtin) {
      const count = numberFlag(flags, 'count', DEFAULT_COUNTS[builtin])!;
      if (!Number.isInteger(count) || count < 1 || count > LIMITS.suiteScenarios)
        throw new CliError(`--count must be an integer from 1 to ${LIMITS.suiteScenarios}, got ${count}`);
      const seed = numberFlag(flags, 'seed', 0)!;
      if (!Number.isSafeInteger(seed)) throw new CliError(`--seed must be an integer, got ${seed}`);
      suite = makeSuite(`builtin-${builtin}`, generateScenarios({ split: builtin, count, seed }), `Generated ${builtin} split (seed ${seed}).`);
    } else if (source !== 'injecagent') {
      if (flags.has('count') || flags.has('seed') || flags.has('tools')) throw new CliError(`--count, --seed and --tools do not apply to --import ${source}`);
      const r = importBenchmarkFromFlags(source!, flags);
      suite = r.suite;
      if (r.skipped.length)
        console.error(`skipped ${r.skipped.length} file(s) or task(s): ${r.skipped.slice(0, 3).join('; ')}${r.skipped.length > 3 ? '; ...' : ''}`);
    } else {
      if (flags.has('count') || flags.has('seed')) throw new CliError('--count and --seed apply to --builtin only');
      const stray = BENCHMARK_FLAGS.find((f) => flags.has(f));
      if (stray) throw new CliError(`--${stray} applies to --import asb or agentdojo only`);
      const file = importFile(flags);
      const toolsPath = stringFlag(flags, 'tools');
      const cases = readJson(file, 'InjecAgent test cases');
      const toolkits = toolsPath ? readJson(toolsPath, 'tools file') : undefined;
      suite = makeSuite(
        'injecagent',
        importInjecAgent(cases, { source: file, toolkits, toolsSource: toolsPath }),
        `Imported from ${file}${toolsPath ? ` with ${toolsPath}` : ''}.`,
      );
    }
    writeFileSync(out, JSON.stringify(suite, null, 1));
    console.log(`wrote ${suite.scenarios.length} scenarios to ${out}`);
  } catch (e) {
    if (e instanceof SuiteError) throw new CliError(e.message);
    throw e;
  }
}
