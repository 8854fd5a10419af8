// The lbcheck command line: subcommands in a table so that `--help` is
// generated from what actually exists. The process entry (adapters/lbcheck.ts)
// adds the commands that need chat adapters and queue workers; src/ itself
// stays free of chat SDKs. This module imports nothing heavy: `--help` must
// start in a few tens of milliseconds.
import { readFileSync } from 'node:fs';
import type { CliCommand } from './commands.js';
import { CliUsageError, exitCodeFor } from './cli-errors.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function helpText(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.usage.length));
  return [
    'lbcheck: runs the load-balancer end-to-end checklist (does the connection reach the LB, how does the LB',
    'handle it, can the LB reach its servers) and names the culprit with packet evidence.',
    '',
    'Usage:',
    ...commands.map((c) => `  lbcheck ${c.usage.padEnd(width)}  ${c.summary}`),
    '  lbcheck --help | --version',
    '',
    'Run `lbcheck <command> --help` for the options of one command.',
  ].join('\n');
}

async function dispatch(argv: string[], commands: readonly CliCommand[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText(commands));
    return 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(version());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new CliUsageError(`unknown command "${name}"`, helpText(commands));
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

/** Runs the CLI and sets the exit code; long-running commands keep the process alive themselves. */
export function runCli(argv: string[], commands: readonly CliCommand[]): void {
  dispatch(argv, commands).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const code = exitCodeFor(err);
      const message = err instanceof Error ? err.message : String(err);
      console.error(`lbcheck: ${message}`);
      if (err instanceof CliUsageError && err.usage) console.error(`\n${err.usage}`);
      // A failed command has nothing left to wait for (e.g. an SSH handshake
      // that was refused may still hold its socket for a moment).
      exitWhenFlushed(code);
    },
  );
}
