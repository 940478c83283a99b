// `npm run cli -- <command> [flags]`: one entry point, one module per command in ./commands.
// Commands throw CliError for bad input: it prints one line and exits with code 2, never a stack trace.
import { relaunchWithDawnEnvironment } from '../node/dawn-env';
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
