// The arguments of `lbcheck run`, parsed and checked with light modules only:
// a run handed to its kept process (--persist) loads nothing more.
import { CliUsageError, InputError } from '../errors.js';
import { parseArgs } from '../runtime/parse-args.js';
import { commandHelp, RUN } from './command-specs.js';

const USAGE = commandHelp(RUN);

/** --from needs a worker in each zone: the bot has them, this one-host command does not. */
const FROM_HERE_ONLY =
  '--from is not an option of lbcheck run: it probes from this machine only. Use the bot (/lbcheck <target> ' +
  '--from all or --from dc1,dc2), whose workers sit in each zone, or --source ADDRESS for another address of ' +
  'this machine';

export function seconds(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) <= 0 || Number(raw) > 300) {
    throw new InputError(`--${flag} ${JSON.stringify(raw)} is not a number of seconds between 0 and 300`);
  }
  return Number(raw);
}

export type ParsedArgs = ReturnType<typeof parseArgs>;

export function parseRunArgs(args: string[]): ParsedArgs {
  if (args.some((a) => a === '--from' || a.startsWith('--from='))) throw new CliUsageError(FROM_HERE_ONLY, USAGE);
  const p = parseArgs(args, RUN.options, USAGE);
  if (p.positional.length !== 1)
    throw new CliUsageError(
      p.positional.length === 0
        ? 'missing <target>'
        : `expected one target, got ${p.positional.length}: ${p.positional.join(' ')}`,
      USAGE,
    );
  return p;
}

/** --persist, else $LBCHECK_PERSIST, else 0 (off). */
export function persistSeconds(p: ParsedArgs): number {
  const raw = p.flags.get('persist')?.[0] ?? process.env.LBCHECK_PERSIST;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d+$/.test(raw) || Number(raw) > 3600)
    throw new InputError(`--persist ${JSON.stringify(raw)} is not a whole number of seconds from 0 to 3600`);
  return Number(raw);
}
