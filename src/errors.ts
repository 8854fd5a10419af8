// Errors that steer control flow are classes with a kind, so callers branch on
// type, not on message text. Every message says what went wrong and what to do.
// ERROR_RULES is the one table from kind to what each front end does with it:
// the CLI's exit code, whether the worker retries, and what chat is told.
import { randomBytes } from 'node:crypto';

export type ErrorKind =
  | 'input' // the user typed something invalid: fix the command
  | 'config' // the inventory or environment is wrong: fix the configuration
  | 'access' // SSH/host-key/permission problems: retrying will not help
  | 'unreachable' // a dependency did not answer: retrying later may help
  | 'internal'; // a bug in lbcheck: the log has the details under a reference

export interface ErrorRule {
  /** The CLI's exit status (0 is "the check ran", whatever it found). */
  exitCode: number;
  /** Whether the worker runs the check again (with backoff) before giving up. */
  retry: boolean;
}

export const ERROR_RULES: Readonly<Record<ErrorKind, ErrorRule>> = {
  input: { exitCode: 2, retry: false },
  config: { exitCode: 3, retry: false },
  access: { exitCode: 3, retry: false },
  unreachable: { exitCode: 3, retry: true },
  // EX_SOFTWARE: scripts can tell "lbcheck broke" from "the check could not run".
  internal: { exitCode: 70, retry: true },
};

export class LbcheckError extends Error {
  override name = 'LbcheckError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(hint ? `${message}. ${hint.charAt(0).toUpperCase()}${hint.slice(1)}` : message, options);
  }

  /** True when running the same thing again cannot succeed (BullMQ's UnrecoverableError case). */
  get permanent(): boolean {
    return !ERROR_RULES[this.kind].retry;
  }
}

export class InputError extends LbcheckError {
  override name = 'InputError';
  constructor(message: string, hint?: string) {
    super('input', message, hint);
  }
}

export class ConfigError extends LbcheckError {
  override name = 'ConfigError';
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super('config', message, hint, options);
  }
}

/** Redis (queue or shared state) did not answer; the cause is kept for the log, not shown to users. */
export class BackendUnavailableError extends LbcheckError {
  override name = 'BackendUnavailableError';
  constructor(where: string, options?: { cause?: unknown }) {
    super(
      'unreachable',
      `lbcheck cannot reach its Redis (${where}), so nothing was queued or changed`,
      'send the command again in a minute: the bot reconnects by itself; ' +
        'if it goes on, tell the team that runs lbcheck',
      options,
    );
  }
}

/** What a front end does with an error: the table's rule plus the text to show. */
export interface Failure extends ErrorRule {
  kind: ErrorKind;
  /** For users: the error's own message, or for a bug, a reference into the log instead of internals. */
  text: string;
  /** Set for internal errors: log it with the error so the text's reference finds it. */
  ref?: string;
}

export function newLogRef(): string {
  return randomBytes(4).toString('hex');
}

/** Classifies anything thrown. Unknown errors are bugs: their text never reaches users. */
export function describeFailure(err: unknown, ref: string = newLogRef()): Failure {
  if (err instanceof LbcheckError) return { kind: err.kind, ...ERROR_RULES[err.kind], text: err.message };
  return {
    kind: 'internal',
    ...ERROR_RULES.internal,
    ref,
    text:
      `lbcheck hit an internal error (log reference ${ref}). ` +
      'Run it again; if it keeps happening, give that reference to the team that runs lbcheck',
  };
}

/**
 * A command line used wrongly (unknown flag, missing value), by `lbcheck`, its worker or its serve command: an input
 * error like any other, carrying the usage text the CLI prints under the message.
 */
export class CliUsageError extends InputError {
  override name = 'CliUsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}
