// What a long-running worker/bot process holds, read at one moment: memory,
// open file descriptors, timers, SSH sessions (the worker's pool and the LB's
// sshd processes), the pipeline's Redis keys and BullMQ job counts. The soak
// bench and its short lab test compare two of these.
import { readdirSync } from 'node:fs';
import { registry } from '../../src/ops/metrics.js';
import type { Lab } from '../lab/lab.js';
import { testRedis } from '../pipeline/harness.js';

export interface Snapshot {
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  fds: number;
  timers: number;
  /** The worker's pooled SSH connections in state open (lbcheck_ssh_sessions). */
  sshOpen: number;
  /** sshd processes on the lab LB: the listener plus one (or two, privilege separation) per connection. */
  lbSshd: number;
  redisKeys: RedisKeys;
}

export interface RedisKeys {
  total: number;
  /** Keys that expire by themselves (check records, evidence, memos). */
  withTtl: number;
  /** BullMQ job hashes per queue (removed by age and count: KEEP_DONE in src/pipeline/bullmq-bus.ts). */
  jobs: Record<string, number>;
  /** BullMQ's structures of each queue (a fixed few per queue used). */
  queueStructures: number;
  /** Everything else without a TTL: must not grow with the checks run. */
  other: number;
  otherKeys: string[];
}

/** BullMQ's own keys of a queue (lists, sets, streams), as opposed to one job's hash. */
const QUEUE_STRUCTURES = new Set([
  'wait',
  'active',
  'paused',
  'delayed',
  'completed',
  'failed',
  'prioritized',
  'waiting-children',
  'meta',
  'id',
  'events',
  'stalled',
  'stalled-check',
  'marker',
  'pc',
  'limiter',
  'repeat',
  'metrics',
]);
const QUEUE_KEY = /^(checks(?:-[^:]+)?|reports-[^:]+|watch):([^:]+)/;

type KeyKind = { kind: 'ttl' } | { kind: 'job'; queue: string } | { kind: 'queue' } | { kind: 'other' };

function keyKind(key: string, prefix: string, ttlMs: number): KeyKind {
  if (ttlMs > 0) return { kind: 'ttl' };
  const q = QUEUE_KEY.exec(key.slice(prefix.length + 1));
  if (q?.[1] && q[2]) return QUEUE_STRUCTURES.has(q[2]) ? { kind: 'queue' } : { kind: 'job', queue: q[1] };
  return { kind: 'other' };
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function sshOpen(): Promise<number> {
  const metric = registry.getSingleMetric('lbcheck_ssh_sessions');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels['state'] === 'open').reduce((n, v) => n + v.value, 0);
}

/** Scans the prefix's keys: how many expire, how many are BullMQ jobs (per queue), how many neither. */
export async function redisKeys(prefix: string): Promise<RedisKeys> {
  const redis = testRedis({ maxRetriesPerRequest: 1 });
  const out: RedisKeys = { total: 0, withTtl: 0, jobs: {}, queueStructures: 0, other: 0, otherKeys: [] };
  try {
    const servers = 'nodes' in redis ? redis.nodes('master') : [redis];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        const ttls = await Promise.all(keys.map((k) => server.pttl(k)));
        keys.forEach((key, i) => {
          out.total++;
          const kind = keyKind(key, prefix, ttls[i] ?? -1);
          if (kind.kind === 'ttl') out.withTtl++;
          else if (kind.kind === 'job') out.jobs[kind.queue] = (out.jobs[kind.queue] ?? 0) + 1;
          else if (kind.kind === 'queue') out.queueStructures++;
          else {
            out.other++;
            out.otherKeys.push(key.slice(prefix.length + 1));
          }
        });
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return out;
}

export async function snapshot(lab: Lab, prefix: string): Promise<Snapshot> {
  const m = process.memoryUsage();
  return {
    rssMb: mb(m.rss),
    heapUsedMb: mb(m.heapUsed),
    externalMb: mb(m.external),
    fds: readdirSync('/proc/self/fd').length,
    timers: process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
    sshOpen: await sshOpen(),
    lbSshd: lab.processNames('lb').filter((n) => n === 'sshd').length,
    redisKeys: await redisKeys(prefix),
  };
}
