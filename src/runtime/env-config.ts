// Process configuration from the environment, checked at startup (the schema
// is in settings.ts): every problem is named with its variable and what a
// valid value looks like.
import { parseEnv, runtimeSchema } from './settings.js';

export interface RuntimeConfig {
  redisUrl: string;
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
  /** LBCHECK_LOG: "stderr" or a file. */
  logTarget?: string;
}

export { DEFAULT_REDIS_URL } from './settings.js';

export function readConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const s = parseEnv(runtimeSchema, env, 'configuration problems');
  return {
    redisUrl: s.REDIS_URL,
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
    ...(s.LBCHECK_CONFIG !== undefined ? { inventoryFile: s.LBCHECK_CONFIG } : {}),
    ...(s.LBCHECK_JOB_KEY !== undefined ? { jobKey: s.LBCHECK_JOB_KEY } : {}),
    ...(s.LBCHECK_LOG !== undefined ? { logTarget: s.LBCHECK_LOG } : {}),
  };
}
