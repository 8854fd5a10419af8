// The lbcheck command line: subcommands in a table so that `--help` is
// generated from what actually exists. The process entry (adapters/lbcheck.ts)
// adds the commands that need chat adapters and queue workers; src/ itself
// stays free of chat SDKs. This module imports nothing heavy: `--help` must
// start in a few tens of milliseconds.
import { readFileSync } from 'node:fs';
import { commandHelp, synopsis } from './command-specs.js';
import type { CliCommand } from './commands.js';
import { exitCodeFor } from './cli-errors.js';
import { CliUsageError } from '../errors.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function helpText(commands: readonly CliCommand[]): string {
  return [
    'lbcheck: runs the load-balancer end-to-end checklist (does the connection reach the LB, how does the LB',
    'handle it, can the LB reach its servers) and names the culprit with packet evidence.',
    '',
    'Usage:',
    ...commands.flatMap((c) => [`  lbcheck ${synopsis(c)}`, `      ${c.summary}`]),
    '  lbcheck help [<command>] | --help | --version',
    '',
    'Run `lbcheck <command> --help` (or `lbcheck help <command>`) for the options of one command.',
  ].join('\n');
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function find(commands: readonly CliCommand[], name: string): CliCommand {
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new CliUsageError(`unknown command "${name}"`, helpText(commands));
  return command;
}

async function dispatch(argv: string[], commands: readonly CliCommand[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    console.log(helpText(commands));
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(version());
    return 0;
  }
  if (name === 'help') {
    if (rest.length > 1) throw new CliUsageError(`help takes one command, not ${rest.join(' ')}`, helpText(commands));
    console.log(commandHelp(find(commands, rest[0] ?? '')));
    return 0;
  }
  const command = find(commands, name);
  // Answered from the table: the command's modules are not loaded for its help.
  if (asksForHelp(rest)) {
    console.log(commandHelp(command));
    return 0;
  }
  const main = await command.load();
  const code = await main(rest);
  if (command.oneShot) exitWhenFlushed(code);
  return code;
}

/**
 * Ends a one-shot command's process as soon as its output is written. The
 * check closes what it opened, but a peer that never acknowledges our data
 * (a stalled exchange, an MTU black hole) can keep a half-closed socket alive
 * for minutes of TCP retransmissions; the user has the report and must get
 * the prompt back now.
 */
function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/** What a failed command prints on stderr (its usage too, for a usage error), and its exit code. */
export function failureText(err: unknown): { text: string; code: number } {
  const message = err instanceof Error ? err.message : String(err);
  const usage = err instanceof CliUsageError && err.usage ? `\n${err.usage}\n` : '';
  return { text: `lbcheck: ${message}\n${usage}`, code: exitCodeFor(err) };
}

/** Runs the CLI and sets the exit code; long-running commands keep the process alive themselves. */
export function runCli(argv: string[], commands: readonly CliCommand[]): void {
  dispatch(argv, commands).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const { text, code } = failureText(err);
      process.stderr.write(text);
      // A failed command has nothing left to wait for (e.g. an SSH handshake
      // that was refused may still hold its socket for a moment).
      exitWhenFlushed(code);
    },
  );
}
