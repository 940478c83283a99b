// `npm run cli -- <command> [flags]`: one entry point, one module per command in ./commands.
// Commands throw CliError for bad input: it prints one line and exits with code 2, never a stack trace.
import { spawnSync } from 'node:child_process';
import { configureDawnEnvironment } from '../node/dawn-env';
import { CliError, parseFlags, type Flags } from './flags';
import { ModelLoadError } from '../model/errors';
import { EngineError } from '../engine/engine';

type CommandModule = { run(flags: Flags): Promise<void>; usage: string; needsGpu?: boolean };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  // Registered by the modules in ./commands; each file exports `run` and `usage`.
};

export function registerCommand(name: string, load: () => Promise<CommandModule>) {
  COMMANDS[name] = load;
}

async function loadCommands() {
  const mod = await import('./commands/index');
  mod.registerAll(registerCommand);
}

function relaunchWithDawnEnvironment(): boolean {
  // The dynamic linker reads LD_LIBRARY_PATH only at start, so a process that needs the
  // SwiftShader driver re-runs itself once with the environment set.
  if (process.env.ASP_DAWN_ENV_SET) return false;
  const env = { ...process.env, ASP_DAWN_ENV_SET: '1' };
  if (configureDawnEnvironment(env) !== 'swiftshader') return false;
  const result = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(result.status ?? 1);
}

async function main() {
  await loadCommands();
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === 'help' || !COMMANDS[name]) {
    const lines = await Promise.all(Object.entries(COMMANDS).map(async ([, load]) => `  ${(await load()).usage}`));
    const msg = `usage: npm run cli -- <command> [flags]\n${lines.join('\n')}`;
    if (name && name !== '--help' && name !== 'help') throw new CliError(`unknown command "${name}"\n${msg}`);
    console.log(msg);
    return;
  }
  const command = await COMMANDS[name]();
  if (command.needsGpu) relaunchWithDawnEnvironment();
  await command.run(parseFlags(rest));
}

main().then(
  () => process.exit(0),
  (err) => {
    // Bad input (flags, model folders, token ids, context length): one line, exit code 2.
    const badInput = err instanceof CliError || err instanceof ModelLoadError || (err instanceof EngineError && (err.code === 'bad-input' || err.code === 'context-overflow'));
    if (badInput) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    console.error(`error: ${(err as Error)?.message ?? err}`);
    if (process.env.ASP_DEBUG) console.error(err);
    process.exit(1);
  },
);
