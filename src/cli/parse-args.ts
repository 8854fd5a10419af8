// A small, strict option parser: known flags only, values required where
// declared, repeatable flags collected. Unknown flags are errors, not ignored.
import { CliUsageError } from './cli-errors.js';

export interface FlagSpec {
  name: string;
  value?: string; // placeholder, e.g. "FILE"; absent for boolean flags
  repeat?: boolean;
  help: string;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

export function parseArgs(args: readonly string[], specs: readonly FlagSpec[], usage: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: new Map(), bools: new Set() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--') || arg === '--') {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new CliUsageError(`unknown option --${name}`, usage);
    if (spec.value === undefined) {
      if (eq > 0) throw new CliUsageError(`--${name} takes no value`, usage);
      out.bools.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--')))
      throw new CliUsageError(`--${name} needs a value (${spec.value})`, usage);
    const list = out.flags.get(name) ?? [];
    if (list.length > 0 && !spec.repeat) throw new CliUsageError(`--${name} given more than once`, usage);
    list.push(value);
    out.flags.set(name, list);
  }
  return out;
}

export function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => [`--${s.name}${s.value ? ` ${s.value}` : ''}`, s.help] as const);
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`).join('\n');
}
