// Process configuration from the environment, checked at startup: every
// problem is named with its variable and what a valid value looks like.
import { ConfigError } from '../errors.js';
import { ZONE } from '../pipeline/job-bus.js';

export interface RuntimeConfig {
  redisUrl: string;
  /** LBCHECK_REDIS_CLUSTER=1: REDIS_URL names one node of a Redis Cluster. */
  redisCluster: boolean;
  /** REDIS_URL was set explicitly: then an unreachable Redis is fatal, never "embedded". */
  redisUrlExplicit: boolean;
  prefix: string;
  inventoryFile?: string;
  zone: string;
  workerConcurrency: number;
  capturesPerLb: number;
  connectTimeoutMs: number;
  silentMs: number;
  evidenceDir: string;
  /** Audit log and evidence store (the bot side writes them). */
  auditDir: string;
  retentionDays: number;
  evidenceMaxBytes: number;
  evidenceTtlSeconds: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  localCapture: boolean;
  /** LBCHECK_JOB_KEY: the bot and its workers seal and check every queued job with it. */
  jobKey?: string;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const redisUrl = env.REDIS_URL && env.REDIS_URL !== '' ? env.REDIS_URL : DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\/[^\s]+$/.test(redisUrl))
    problems.push(`REDIS_URL must look like redis://host:6379 or rediss://user:pass@host:6380/0`);
  const prefix = env.LBCHECK_PREFIX && env.LBCHECK_PREFIX !== '' ? env.LBCHECK_PREFIX : 'lbcheck';
  if (!/^[{}A-Za-z0-9_.-]{1,64}$/.test(prefix))
    problems.push(
      `LBCHECK_PREFIX=${JSON.stringify(prefix)} may hold letters, digits, {}, _ . - only (use {lbcheck} on Redis Cluster)`,
    );
  const redisCluster = env.LBCHECK_REDIS_CLUSTER === '1';
  if (env.LBCHECK_REDIS_CLUSTER !== undefined && !['', '0', '1'].includes(env.LBCHECK_REDIS_CLUSTER))
    problems.push(`LBCHECK_REDIS_CLUSTER=${JSON.stringify(env.LBCHECK_REDIS_CLUSTER)} must be 1 (Redis Cluster) or 0`);
  // A cluster runs a script or transaction only when all its keys share a slot: the prefix's {hash tag} does that.
  if (redisCluster && !/\{[^{}]+\}/.test(prefix))
    problems.push(`LBCHECK_PREFIX=${JSON.stringify(prefix)} needs a {hash tag} on Redis Cluster, e.g. {lbcheck}`);
  const zone = env.LBCHECK_ZONE && env.LBCHECK_ZONE !== '' ? env.LBCHECK_ZONE : 'default';
  if (!ZONE.test(zone))
    problems.push(`LBCHECK_ZONE=${JSON.stringify(zone)} must be a short name of letters, digits, _ and -`);
  const config: RuntimeConfig = {
    redisUrl,
    redisCluster,
    redisUrlExplicit: env.REDIS_URL !== undefined && env.REDIS_URL !== '',
    prefix,
    zone,
    workerConcurrency: int('LBCHECK_WORKER_CONCURRENCY', 4, 1, 256),
    capturesPerLb: int('LBCHECK_CAPTURES_PER_LB', 2, 1, 64),
    connectTimeoutMs: int('LBCHECK_CONNECT_TIMEOUT_MS', 3000, 100, 120_000),
    silentMs: int('LBCHECK_SILENT_MS', 5000, 100, 120_000),
    evidenceDir: env.LBCHECK_EVIDENCE_DIR && env.LBCHECK_EVIDENCE_DIR !== '' ? env.LBCHECK_EVIDENCE_DIR : 'evidence',
    auditDir: env.LBCHECK_AUDIT_DIR && env.LBCHECK_AUDIT_DIR !== '' ? env.LBCHECK_AUDIT_DIR : 'lbcheck-data',
    retentionDays: int('LBCHECK_RETENTION_DAYS', 90, 1, 36500),
    evidenceMaxBytes: int('LBCHECK_EVIDENCE_MAX_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    evidenceTtlSeconds: int('LBCHECK_EVIDENCE_TTL_SECONDS', 24 * 3600, 60, 30 * 24 * 3600),
    // A lost worker is noticed within lock + interval (15 s): its lock expires 10 s after its last renewal at
    // most, and another worker looks every 5 s. The price: a worker whose event loop is blocked longer than
    // 10 s loses its checks to others (they run again).
    lockDurationMs: int('LBCHECK_LOCK_MS', 10_000, 1000, 600_000),
    stalledIntervalMs: int('LBCHECK_STALLED_CHECK_MS', 5_000, 1000, 600_000),
    localCapture: env.LBCHECK_LOCAL_CAPTURE !== '0',
  };
  if (env.LBCHECK_CONFIG) config.inventoryFile = env.LBCHECK_CONFIG;
  if (env.LBCHECK_JOB_KEY !== undefined && env.LBCHECK_JOB_KEY !== '') {
    if (env.LBCHECK_JOB_KEY.length < 32)
      problems.push(
        'LBCHECK_JOB_KEY must be at least 32 characters (e.g. openssl rand -hex 32), the same on bot and workers',
      );
    else config.jobKey = env.LBCHECK_JOB_KEY;
  }
  if (problems.length > 0) throw new ConfigError(`configuration problems:\n  ${problems.join('\n  ')}`);
  return config;
}
