// `scenarios`: writes a scenario suite, either generated (--builtin train|test) or imported
// from InjecAgent test cases (--import injecagent FILE [--tools TOOLS.json]).
import { readFileSync, writeFileSync } from 'node:fs';
import { generateScenarios, importInjecAgent, makeSuite, SuiteError, DEFAULT_COUNTS } from '../../sandbox/index';
import { CliError, numberFlag, oneOf, stringFlag, type Flags } from '../flags';

export const usage = 'scenarios (--builtin train|test | --import injecagent FILE [--tools TOOLS.json]) --out SUITE.json [--count N] [--seed S]';

function readJson(path: string, what: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new CliError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  try { return JSON.parse(text); } catch (e) { throw new CliError(`${what} ${path} is not valid JSON: ${(e as Error).message}`); }
}

/** The FILE after `--import injecagent`: the parser keeps a flag's extra values as `name[1]`. */
function importFile(flags: Flags): string {
  const v = flags.get('import[1]');
  if (typeof v !== 'string') throw new CliError('--import injecagent needs a FILE: --import injecagent FILE');
  return v;
}

export async function run(flags: Flags): Promise<void> {
  const out = stringFlag(flags, 'out', true);
  const builtin = oneOf(flags, 'builtin', ['train', 'test'] as const);
  const source = oneOf(flags, 'import', ['injecagent'] as const);
  if (!!builtin === !!source) throw new CliError('give exactly one of --builtin train|test or --import injecagent FILE');
  try {
    let suite;
    if (builtin) {
      const count = numberFlag(flags, 'count', DEFAULT_COUNTS[builtin])!;
      if (!Number.isInteger(count) || count < 1) throw new CliError(`--count must be a positive integer, got ${count}`);
      const seed = numberFlag(flags, 'seed', 0)!;
      suite = makeSuite(`builtin-${builtin}`, generateScenarios({ split: builtin, count, seed }), `Generated ${builtin} split (seed ${seed}).`);
    } else {
      if (flags.has('count') || flags.has('seed')) throw new CliError('--count and --seed apply to --builtin only');
      const file = importFile(flags);
      const toolsPath = stringFlag(flags, 'tools');
      const cases = readJson(file, 'InjecAgent test cases');
      const toolkits = toolsPath ? readJson(toolsPath, 'tools file') : undefined;
      suite = makeSuite('injecagent', importInjecAgent(cases, { source: file, toolkits, toolsSource: toolsPath }), `Imported from ${file}${toolsPath ? ` with ${toolsPath}` : ''}.`);
    }
    writeFileSync(out, JSON.stringify(suite, null, 1));
    console.log(`wrote ${suite.scenarios.length} scenarios to ${out}`);
  } catch (e) {
    if (e instanceof SuiteError) throw new CliError(e.message);
    throw e;
  }
}
