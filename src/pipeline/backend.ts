// Connects the pipeline to Redis (BullMQ + shared state), or, for a
// single-machine `lbcheck start` with no Redis configured or running, to the
// in-process twins. An explicit REDIS_URL that does not answer is fatal.
import { ConfigError } from '../errors.js';
import { BullBus } from './bullmq-bus.js';
import type { JobBus } from './job-bus.js';
import { safeRedisUrl } from '../runtime/redis-url.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryState } from './memory-state.js';
import { guardBackend } from './backend-guard.js';
import { RedisState } from './redis-state.js';
import { DEFAULT_STATE_LIMITS, type PipelineState, type StateLimits } from './state.js';
import { reportLostChecks } from './lost-in-flight.js';
import { createLogger, type Logger } from '../log.js';
import { logRedisErrors, RateLimitedErrors, watchRedis } from '../runtime/redis-health.js';
import { redisClient, type RedisClient } from '../runtime/redis-client.js';
import type { RuntimeConfig } from '../runtime/env-config.js';
import { loopbackUrlHost } from '../runtime/loopback.js';

/**
 * Unsealed jobs are tolerated only on a Redis that nothing off this machine can write to: whoever can write
 * to a shared Redis could otherwise queue checks and posts in anyone's name.
 */
export function requireJobKeyOffLoopback(config: RuntimeConfig): void {
  if (config.jobKey || loopbackUrlHost(config.redisUrl) !== undefined) return;
  throw new ConfigError(
    `LBCHECK_JOB_KEY is not set and Redis at ${safeRedisUrl(config.redisUrl)} is not on this machine: queued ` +
      'jobs would not be sealed, so whoever can write to that Redis could queue checks and posts',
    'set the same LBCHECK_JOB_KEY (at least 32 characters, e.g. openssl rand -hex 32) on the bot and every worker',
  );
}

export interface Backend {
  mode: 'redis' | 'embedded';
  /** Fails fast while Redis is down: for command intake. */
  intakeState: PipelineState;
  /** Waits for Redis to come back: for workers and the poster. */
  state: PipelineState;
  bus: JobBus;
  /** Whether the queue's store answers now (for /readyz): undefined, or what is wrong. */
  problem(): Promise<string | undefined>;
  close(): Promise<void>;
}

async function ping(url: string, cluster: boolean, timeoutMs: number): Promise<string | undefined> {
  const r = redisClient(url, cluster, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    r.disconnect();
  }
}

/** Queue and state in this process (no Redis): a check lost in flight is still told in its channel. */
export function embeddedBackend(limits: StateLimits = DEFAULT_STATE_LIMITS): Backend & { state: MemoryState } {
  const bus = new MemoryBus();
  const state = new MemoryState(limits, reportLostChecks(bus));
  const problem = (): Promise<undefined> => Promise.resolve(undefined); // in-process: up while the process is
  return { mode: 'embedded', state, intakeState: state, bus, problem, close: () => bus.close() };
}

export async function connectBackend(config: RuntimeConfig, allowEmbedded: boolean, log?: Logger): Promise<Backend> {
  requireJobKeyOffLoopback(config);
  const problem = await ping(config.redisUrl, config.redisCluster, 2000);
  if (problem !== undefined) {
    if (allowEmbedded && !config.redisUrlExplicit) {
      return embeddedBackend();
    }
    throw new ConfigError(
      `Redis at ${safeRedisUrl(config.redisUrl)} does not answer (${problem})`,
      config.redisUrlExplicit
        ? 'start Redis there or fix REDIS_URL'
        : 'start a Redis on 127.0.0.1:6379 or set REDIS_URL',
    );
  }
  const fast = redisClient(config.redisUrl, config.redisCluster, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  });
  const patient = redisClient(config.redisUrl, config.redisCluster, {
    maxRetriesPerRequest: null,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  });
  // Both reconnect by themselves (intake answers "queue unavailable" meanwhile); the log says what is going on.
  const errors = new RateLimitedErrors(log ?? createLogger('silent'));
  for (const r of [fast, patient]) logRedisErrors(r, errors);
  if (log) watchRedis(patient, 'state', log);
  await new Promise<void>((resolve) => (fast.status === 'ready' ? resolve() : fast.once('ready', () => resolve())));
  const consumers: RedisClient[] = [];
  const bus = new BullBus({
    url: config.redisUrl,
    prefix: config.prefix,
    producer: fast,
    consumer: () => {
      const c = redisClient(config.redisUrl, config.redisCluster, {
        maxRetriesPerRequest: null,
        retryStrategy: (n) => Math.min(n * 200, 2000),
      });
      logRedisErrors(c, errors);
      consumers.push(c);
      return c;
    },
    lockDurationMs: config.lockDurationMs,
    stalledIntervalMs: config.stalledIntervalMs,
    ...(config.jobKey ? { jobKey: config.jobKey } : {}),
    ...(log ? { log } : {}),
    errors,
  });
  return {
    mode: 'redis',
    intakeState: guardBackend(
      new RedisState(fast, config.prefix, DEFAULT_STATE_LIMITS, reportLostChecks(bus)),
      safeRedisUrl(config.redisUrl),
    ),
    state: guardBackend(
      new RedisState(patient, config.prefix, DEFAULT_STATE_LIMITS, reportLostChecks(bus)),
      safeRedisUrl(config.redisUrl),
    ),
    bus,
    // The fast connection: it fails at once while Redis is down instead of queueing the PING.
    problem: () =>
      fast.ping().then(
        () => undefined,
        (err: unknown) =>
          `Redis at ${safeRedisUrl(config.redisUrl)} does not answer ` +
          `(${err instanceof Error ? err.message : String(err)})`,
      ),
    close: async () => {
      await bus.close();
      for (const r of [fast, patient, ...consumers]) r.disconnect();
    },
  };
}
