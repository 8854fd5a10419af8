// Structured logs: one JSON object per line, the check id on every line that
// concerns a check. Callers pass facts, never secrets (keys and tokens are
// not in any object that reaches here).
import { appendFileSync } from 'node:fs';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(sink: 'stderr' | { file: string } | 'silent', base: Record<string, unknown> = {}): Logger {
  const write = (line: string): void => {
    if (sink === 'silent') return;
    if (sink === 'stderr') process.stderr.write(`${line}\n`);
    else appendFileSync(sink.file, `${line}\n`);
  };
  return {
    log(level, msg, fields = {}) {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }));
    },
    child(fields) {
      return createLogger(sink, { ...base, ...fields });
    },
  };
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  // The wrapped error says what the client really said (users see only the wrapper's message).
  const cause = err.cause instanceof Error ? { cause: `${err.cause.name}: ${err.cause.message}` } : {};
  return { error: err.message, errorType: err.name, ...cause };
}
