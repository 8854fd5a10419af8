// Exit codes of the command line, in one place. 0: the check ran (whatever it
// found); 2: the command was used wrongly; 3: the check could not run.
import { LbcheckError } from '../errors.js';

export class CliUsageError extends Error {
  override name = 'CliUsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

export const EXIT_USAGE = 2;
export const EXIT_CANNOT_RUN = 3;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliUsageError) return EXIT_USAGE;
  if (err instanceof LbcheckError && err.kind === 'input') return EXIT_USAGE;
  return EXIT_CANNOT_RUN;
}
