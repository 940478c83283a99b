// `npm run cli -- <command> [flags]`: one entry point, one module per command in ./commands.
// Commands throw CliError for bad input: it prints one line and exits with code 2, never a stack trace.
import { relaunchWithDawnEnvironment } from '../node/dawn-env';
import { CliError, describeFileError, parseFlags, type Flags } from './flags';
import { ModelLoadError } from '../hf-io/errors';
import { EngineError } from '../engine/engine';
import { SuiteError } from '../sandbox/scenarios/suite-format';
import { PyLiteralError } from '../sandbox/scenarios/pyliteral';
import { CheckpointError } from '../checkpoints/errors';
import { PeftAdapterError } from '../peft/import';

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

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' | ');

main().then(
  () => process.exit(0),
  (err) => {
    // Bad input (flags, model folders, token ids, context length): one line, exit code 2.
    // Bad input also covers files that cannot be read or written (a missing folder, no permission)
    // and the named errors of suites, checkpoints and imports: a sentence, never a raw ENOENT.
    const badInput =
      err instanceof CliError ||
      err instanceof ModelLoadError ||
      (err instanceof EngineError && (err.code === 'bad-input' || err.code === 'context-overflow')) ||
      err instanceof SuiteError ||
      err instanceof PyLiteralError ||
      err instanceof CheckpointError ||
      err instanceof PeftAdapterError;
    const fileProblem = describeFileError(err);
    if (badInput || fileProblem) {
      // A CliError may carry the usage on purpose (unknown command); other messages stay on one line.
      console.error(`error: ${fileProblem ?? (err instanceof CliError ? err.message : oneLine((err as Error).message))}`);
      process.exit(2);
    }
    // Anything else is a bug: still one line (the stack only with ASP_DEBUG), exit code 1.
    console.error(`error: ${oneLine(String((err as Error)?.message ?? err))}`);
    if (process.env.ASP_DEBUG) console.error(err);
    process.exit(1);
  },
);
