// Options of every command come from one table (FlagSpec[]): node:util's
// parseArgs splits the arguments by it, and the help is rendered from it. The
// checks on top of node's are strict: unknown options, a value on a flag, a
// missing value or one that looks like another option, and a single-valued
// option given twice are usage errors that name the option.
import { parseArgs as splitArgs } from 'node:util';
import { CliUsageError } from '../errors.js';

export interface FlagSpec {
  name: string;
  /** Other spellings accepted for the same option (e.g. `members` for `member`). */
  aliases?: string[];
  value?: string; // placeholder, e.g. "FILE"; absent for boolean flags
  repeat?: boolean;
  /** Each value may hold several, comma-separated: `--member a,b` is `--member a --member b`. */
  commaList?: boolean;
  help: string;
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

type NodeOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function nodeOptions(specs: readonly FlagSpec[]): { options: NodeOptions; canonical: Map<string, FlagSpec> } {
  const options: NodeOptions = {};
  const canonical = new Map<string, FlagSpec>();
  for (const spec of specs)
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      options[name] = { type: spec.value === undefined ? 'boolean' : 'string' };
      canonical.set(name, spec);
    }
  return { options, canonical };
}

export function parseArgs(args: readonly string[], specs: readonly FlagSpec[], usage: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: new Map(), bools: new Set() };
  const { options, canonical } = nodeOptions(specs);
  // Not strict: node would refuse with its own wording; the tokens let the errors name our options.
  const { tokens } = splitArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') out.positional.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = canonical.get(token.name);
    if (!spec) throw new CliUsageError(`unknown option ${token.rawName}`, usage);
    if (spec.value === undefined) {
      if (token.value !== undefined) throw new CliUsageError(`--${spec.name} takes no value`, usage);
      out.bools.add(spec.name);
      continue;
    }
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && value !== '-'))
      throw new CliUsageError(`${token.rawName} needs a value (${spec.value})`, usage);
    const list = out.flags.get(spec.name) ?? [];
    if (list.length > 0 && !spec.repeat) throw new CliUsageError(`--${spec.name} given more than once`, usage);
    list.push(...(spec.commaList ? value.split(',').filter((v) => v !== '') : [value]));
    out.flags.set(spec.name, list);
  }
  return out;
}

/** Splits text into lines of at most `width` columns, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** The options part of a help text: one row per option (aliases and value placeholder included), 120 columns. */
export function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = [s.name, ...(s.aliases ?? [])].map((n) => `--${n}`).join(', ');
    return [`${names}${s.value ? ` ${s.value}` : ''}`, s.help] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  const indent = ' '.repeat(width + 4);
  return rows
    .map(([l, h]) => {
      const [first = '', ...more] = wrap(h, 120 - indent.length);
      return [`  ${l.padEnd(width)}  ${first}`, ...more.map((m) => `${indent}${m}`)].join('\n');
    })
    .join('\n');
}
