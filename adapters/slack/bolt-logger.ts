// Bolt's (and its Web API client's) log lines, into lbcheck's one JSON log:
// Bolt takes any object with this shape as its `logger` option.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Level, Logger } from '../../src/log.js';

const RANK: Record<LogLevel, number> = {
  [LogLevel.DEBUG]: 0,
  [LogLevel.INFO]: 1,
  [LogLevel.WARN]: 2,
  [LogLevel.ERROR]: 3,
};

/**
 * Strings and errors become the message; the first other object goes in
 * `detail`, as a field, so the log's redaction (tokens, secrets) applies to it.
 */
function entry(args: unknown[]): { msg: string; detail?: unknown } {
  const words: string[] = [];
  let detail: unknown;
  for (const a of args) {
    if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') words.push(String(a));
    else if (a instanceof Error) words.push(a.message);
    else if (detail === undefined && a !== null && a !== undefined) detail = a;
  }
  return { msg: words.join(' ') || '(no message)', ...(detail !== undefined ? { detail } : {}) };
}

export function boltLogger(log: Logger, level: LogLevel = LogLevel.WARN): BoltLogger {
  let min = level;
  let name = 'bolt';
  const at =
    (ours: Level, theirs: LogLevel) =>
    (...args: unknown[]): void => {
      if (RANK[theirs] < RANK[min]) return;
      const { msg, detail } = entry(args);
      log.log(ours, msg, { source: name, ...(detail !== undefined ? { detail } : {}) });
    };
  return {
    debug: at('debug', LogLevel.DEBUG),
    info: at('info', LogLevel.INFO),
    warn: at('warn', LogLevel.WARN),
    error: at('error', LogLevel.ERROR),
    setLevel: (l) => void (min = l),
    getLevel: () => min,
    setName: (n) => void (name = `bolt:${n}`),
  };
}
