// Process configuration from the environment, checked at startup (the schema
// is in settings.ts): every problem is named with its variable and what a
// valid value looks like.
import { ConfigError } from '../errors.js';
import { parseEnv, runtimeSchema } from './settings.js';

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
  /** LBCHECK_SHARED_CAPTURE: a worker keeps one capture per LB and target running between checks. */
  sharedCapture: boolean;
  /** LBCHECK_SOURCE_ADDRESS: the probes leave from this address of the worker's host (its vantage point). */
  sourceAddress?: string;
  /** LBCHECK_JOB_KEY: the bot and its workers seal and check every queued job with it. */
  jobKey?: string;
  /** LBCHECK_LOG: "stderr" or a file. */
  logTarget?: string;
}

export { DEFAULT_REDIS_URL } from './settings.js';

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const s = parseEnv(runtimeSchema, env, 'configuration problems');
  const redisCluster = s.LBCHECK_REDIS_CLUSTER === '1';
  // A cluster runs a script or transaction only when all its keys share a slot: the prefix's {hash tag} does that.
  if (redisCluster && !/\{[^{}]+\}/.test(s.LBCHECK_PREFIX))
    throw new ConfigError(
      `configuration problems:\n  LBCHECK_PREFIX=${JSON.stringify(s.LBCHECK_PREFIX)} needs a {hash tag} on Redis ` +
        `Cluster, e.g. {lbcheck}`,
    );
  return {
    redisUrl: s.REDIS_URL,
    redisCluster,
    redisUrlExplicit: env.REDIS_URL !== undefined && env.REDIS_URL !== '',
    prefix: s.LBCHECK_PREFIX,
    zone: s.LBCHECK_ZONE,
    workerConcurrency: s.LBCHECK_WORKER_CONCURRENCY,
    capturesPerLb: s.LBCHECK_CAPTURES_PER_LB,
    connectTimeoutMs: s.LBCHECK_CONNECT_TIMEOUT_MS,
    silentMs: s.LBCHECK_SILENT_MS,
    evidenceDir: s.LBCHECK_EVIDENCE_DIR,
    auditDir: s.LBCHECK_AUDIT_DIR,
    retentionDays: s.LBCHECK_RETENTION_DAYS,
    evidenceMaxBytes: s.LBCHECK_EVIDENCE_MAX_BYTES,
    evidenceTtlSeconds: s.LBCHECK_EVIDENCE_TTL_SECONDS,
    lockDurationMs: s.LBCHECK_LOCK_MS,
    stalledIntervalMs: s.LBCHECK_STALLED_CHECK_MS,
    localCapture: s.LBCHECK_LOCAL_CAPTURE !== '0',
    sharedCapture: s.LBCHECK_SHARED_CAPTURE !== '0',
    ...(s.LBCHECK_CONFIG !== undefined ? { inventoryFile: s.LBCHECK_CONFIG } : {}),
    ...(s.LBCHECK_JOB_KEY !== undefined ? { jobKey: s.LBCHECK_JOB_KEY } : {}),
    ...(s.LBCHECK_LOG !== undefined ? { logTarget: s.LBCHECK_LOG } : {}),
    ...(s.LBCHECK_SOURCE_ADDRESS !== undefined ? { sourceAddress: s.LBCHECK_SOURCE_ADDRESS } : {}),
  };
}
