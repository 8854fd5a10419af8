// Exit codes of the command line: 0 the check ran (whatever it found); the
// rest come from the error table in src/errors.ts (2 the command was used
// wrongly, 3 the check could not run, 70 lbcheck hit a bug).
import { describeFailure, ERROR_RULES, CliUsageError } from '../errors.js';

export const EXIT_USAGE = ERROR_RULES.input.exitCode;
export const EXIT_CANNOT_RUN = ERROR_RULES.access.exitCode;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliUsageError) return EXIT_USAGE;
  // A file or socket the system refused (ENOENT on --identity, EACCES...): the check could not run, not a bug.
  if (err instanceof Error && 'syscall' in err) return EXIT_CANNOT_RUN;
  return describeFailure(err).exitCode;
}
