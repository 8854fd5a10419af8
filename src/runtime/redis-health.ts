// Redis and BullMQ report connection trouble through 'error' events, one per
// reconnect attempt. They must be seen (a silent bot that queues nothing is the
// worst outcome), but not flood the log: the state change is logged once
// ("Redis lost" / "Redis back") and errors at most once per interval, with how
// many were left out.
import type { RedisClient } from './redis-client.js';
import type { Logger } from '../log.js';

export class RateLimitedErrors {
  private last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {}

  error(source: string, err: unknown): void {
    const now = this.clock();
    const seen = this.last.get(source);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.last.set(source, { at: now, suppressed: 0 });
    this.log.log('error', `${source} error`, {
      error: err instanceof Error ? err.message : String(err),
      ...(seen && seen.suppressed > 0 ? { suppressedSinceLast: seen.suppressed } : {}),
    });
  }
}

/** Errors of a connection, rate-limited under one name for all of a process's connections. */
export function logRedisErrors(redis: RedisClient, errors: RateLimitedErrors): void {
  redis.on('error', (err: unknown) => errors.error('redis', err));
}

/**
 * Logs "Redis lost" when the connection drops and starts reconnecting (not on
 * a deliberate close) and "Redis back" when it is ready again.
 */
export function watchRedis(redis: RedisClient, name: string, log: Logger): void {
  let lost = false;
  redis.on('reconnecting', () => {
    if (lost) return;
    lost = true;
    log.log('error', 'Redis lost', { connection: name, hint: 'commands are refused until it is back; reconnecting' });
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    log.log('info', 'Redis back', { connection: name });
  });
}
