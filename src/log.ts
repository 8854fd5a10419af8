// Structured logs: one JSON object per line (pino), the check id on every line
// that concerns a check. Callers pass facts, never secrets; the redaction below
// is the net under that rule for fields that carry them by name (a library's
// options object, a request's headers).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { format } from 'node:util';
import { pino, type Logger as PinoLogger } from 'pino';
import { ConfigError } from './errors.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export type LogSink = 'stderr' | { file: string } | 'silent';

const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'password',
  'appPassword',
  'MicrosoftAppPassword',
  'secret',
  'clientSecret',
  'jobKey',
  'linkSecret',
  'adminToken',
  'privateKey',
  'authorization',
  'Authorization',
  'cookie',
];

/** Redacted wherever they appear at the top level, one level down, or in a headers object two levels down. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...['authorization', 'Authorization', 'cookie'].map((k) => `*.headers.${k}`),
];

function destination(sink: Exclude<LogSink, 'silent'>): pino.DestinationStream {
  // Synchronous writes: a line is in the file when log() returns (tests and `tail -f` see it at once, and a
  // crash loses nothing already logged), as with the appendFileSync this replaced.
  if (sink === 'stderr') return pino.destination({ dest: 2, sync: true });
  return pino.destination({ dest: sink.file, sync: true, append: true, mkdir: true });
}

function wrap(p: PinoLogger): Logger {
  return {
    log(level, msg, fields = {}) {
      p[level](fields, msg);
    },
    child(fields) {
      return wrap(p.child(fields));
    },
  };
}

export function createLogger(sink: LogSink, base: Record<string, unknown> = {}, level: Level = 'info'): Logger {
  const options: pino.LoggerOptions = {
    level: sink === 'silent' ? 'silent' : level,
    base: null,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: operators grep for "level":"error".
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  const root = sink === 'silent' ? pino(options) : pino(options, destination(sink));
  return wrap(Object.keys(base).length > 0 ? root.child(base) : root);
}

/** LBCHECK_LOG_LEVEL: debug, info (default), warn or error. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): Level {
  const raw = env.LBCHECK_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  if ((LEVELS as readonly string[]).includes(raw)) return raw as Level;
  throw new ConfigError(`LBCHECK_LOG_LEVEL=${JSON.stringify(raw)} must be one of ${LEVELS.join(', ')}`);
}

/**
 * The process's log as LBCHECK_LOG says: "stderr", or a file (created with its
 * directory); `fallback` when unset. Every process (start, serve, worker) uses this.
 */
export function loggerFromEnv(
  env: NodeJS.ProcessEnv,
  fallback: string, // 'stderr' or a file
  base: Record<string, unknown>,
): { log: Logger; where: string } {
  const level = logLevelFromEnv(env);
  const target = env.LBCHECK_LOG !== undefined && env.LBCHECK_LOG !== '' ? env.LBCHECK_LOG : fallback;
  if (target === 'stderr') return { log: createLogger('stderr', base, level), where: 'stderr' };
  const file = resolve(target);
  mkdirSync(dirname(file), { recursive: true });
  return { log: createLogger({ file }, base, level), where: file };
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  // The wrapped error says what the client really said (users see only the wrapper's message).
  const cause = err.cause instanceof Error ? { cause: `${err.cause.name}: ${err.cause.message}` } : {};
  return { error: err.message, errorType: err.name, ...cause };
}

/**
 * Sends console.warn / console.error into the log until the returned function
 * is called. botbuilder has no logger option: its CloudAdapter reports failed
 * requests with console.error, which would otherwise bypass the JSON log.
 */
export function routeConsoleToLog(log: Logger): () => void {
  const saved = { warn: console.warn, error: console.error };
  console.warn = (...args: unknown[]) => log.log('warn', format(...args), { source: 'console' });
  console.error = (...args: unknown[]) => log.log('error', format(...args), { source: 'console' });
  return () => {
    console.warn = saved.warn;
    console.error = saved.error;
  };
}
