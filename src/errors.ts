// Errors that steer control flow are classes with a kind, so callers branch on
// type, not on message text. Every message says what went wrong and what to do.

export type ErrorKind =
  | 'input' // the user typed something invalid: fix the command
  | 'config' // the inventory or environment is wrong: fix the configuration
  | 'access' // SSH/host-key/permission problems: retrying will not help
  | 'unreachable' // a dependency did not answer: retrying later may help
  | 'internal';

export class LbcheckError extends Error {
  override name = 'LbcheckError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}. ${hint.charAt(0).toUpperCase()}${hint.slice(1)}` : message);
  }

  /** True when running the same thing again cannot succeed (BullMQ's UnrecoverableError case). */
  get permanent(): boolean {
    return this.kind !== 'unreachable';
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
  constructor(message: string, hint?: string) {
    super('config', message, hint);
  }
}
