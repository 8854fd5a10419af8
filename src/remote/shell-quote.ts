// The one quoting function for remote commands. Remote commands are built as
// argv arrays and turned into a command line only here; every argument is
// single-quoted unless it is made only of characters no shell interprets.
import { InputError } from '../errors.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteArg(arg: string): string {
  // A NUL cannot travel inside a C string: refuse rather than truncate silently.
  if (arg.includes('\0')) throw new InputError('a remote command argument contains a NUL byte');
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('commandLine: empty argv');
  return argv.map(quoteArg).join(' ');
}
