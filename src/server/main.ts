// npm run serve-env -- (--suite FILE | --builtin train|test) [--port P] [--host H] [--verifier scenario|P]
//   [--max-turns N] [--max-sessions N] [--idle-timeout-s S]
// Serves the sandbox as an OpenEnv environment (see env-server.ts and docs/scale-out.md).
import { readFileSync } from 'node:fs';
import { CliError, numberFlag, oneOf, parseFlags, stringFlag } from '../cli/flags';
import { generateScenarios } from '../sandbox/scenarios/generator';
import { parseSuiteText } from '../sandbox/scenarios/suite-format';
import type { Scenario } from '../sandbox/scenarios/types';
import { DEFAULT_LIMITS, startEnvServer } from './env-server';
import type { VerifierChoice } from './session';

export const usage =
  'serve-env (--suite FILE | --builtin train|test) [--port P] [--host H] [--verifier scenario|P] [--max-turns N] [--max-sessions N] [--idle-timeout-s S]';

function positiveInt(v: number | undefined, name: string, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, got ${n}`);
  return n;
}

export function verifierFlag(text: string | undefined): VerifierChoice {
  if (text === undefined || text === 'scenario') return 'scenario';
  const p = Number(text);
  if (!(text.trim() !== '' && p >= 0 && p <= 1)) throw new CliError(`--verifier must be "scenario" or a probability in [0, 1], got "${text}"`);
  return p;
}

async function main() {
  const flags = parseFlags(process.argv.slice(2));
  const suitePath = stringFlag(flags, 'suite');
  const builtin = oneOf(flags, 'builtin', ['train', 'test'] as const);
  if (!suitePath === !builtin) throw new CliError(`give exactly one of --suite FILE or --builtin train|test\nusage: npm run ${usage}`);
  let scenarios: Scenario[];
  let source: string;
  if (suitePath) {
    let text: string;
    try {
      text = readFileSync(suitePath, 'utf8');
    } catch (e) {
      throw new CliError(`--suite ${suitePath}: ${(e as Error).message}`);
    }
    try {
      scenarios = parseSuiteText(text, suitePath).scenarios;
    } catch (e) {
      throw new CliError(`--suite ${suitePath}: ${(e as Error).message}`);
    }
    source = suitePath;
  } else {
    scenarios = generateScenarios({ split: builtin! });
    source = `builtin:${builtin}`;
  }
  const port = numberFlag(flags, 'port', 8000)!;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be an integer in 0..65535, got ${port}`);
  const host = stringFlag(flags, 'host') ?? '127.0.0.1';
  const server = await startEnvServer(
    {
      scenarios,
      source,
      verifier: verifierFlag(stringFlag(flags, 'verifier')),
      limits: {
        maxTurns: positiveInt(numberFlag(flags, 'max-turns'), 'max-turns', DEFAULT_LIMITS.maxTurns),
        maxSessions: positiveInt(numberFlag(flags, 'max-sessions'), 'max-sessions', DEFAULT_LIMITS.maxSessions),
        idleTimeoutMs: 1000 * positiveInt(numberFlag(flags, 'idle-timeout-s'), 'idle-timeout-s', DEFAULT_LIMITS.idleTimeoutMs / 1000),
      },
    },
    port,
    host,
  );
  // One line a launcher can wait for (tests and python/ read the port from it).
  console.log(JSON.stringify({ listening: `http://${host}:${server.port}`, port: server.port, scenarios: scenarios.length, source }));
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`error: ${(err as Error)?.message ?? err}`);
  process.exit(err instanceof CliError ? 2 : 1);
});
