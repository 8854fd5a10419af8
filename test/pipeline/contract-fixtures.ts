// Shared by the JobBus and PipelineState contract suites: requests and the
// two backends (in memory, and Redis under a fresh key prefix).
import { randomBytes } from 'node:crypto';
import { newCheckId } from '../../src/model/check-id.js';
import type { CheckRequest } from '../../src/model/jobs.js';

let n = 0;

export function request(target = 'web-vip', over: Partial<CheckRequest> = {}): CheckRequest {
  n++;
  return {
    checkId: newCheckId(),
    target,
    members: [],
    all: false,
    requester: { platform: 'console', id: 'alice' },
    replyTo: { platform: 'console', channel: 'incident-1' },
    zone: 'default',
    // Strictly increasing: Redis orders history by this time, memory by arrival.
    requestedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    ...over,
  };
}

/** The checks of one `--from` command: one per zone, linked by a group id, asked for at one moment. */
export function vantageGroup(zones: string[], over: Partial<CheckRequest> = {}): CheckRequest[] {
  const group = { id: `grp-${randomBytes(5).toString('hex')}`, zones };
  const requestedAt = new Date().toISOString();
  return zones.map((zone) => request('web-vip', { zone, group, requestedAt, ...over }));
}

export function uniquePrefix(): string {
  const p = `lbc-contract-${randomBytes(4).toString('hex')}`;
  // A {hash tag} when the test Redis is a cluster (cluster-lab.test.ts), as lbcheck requires there.
  return process.env.LBCHECK_TEST_REDIS_CLUSTER === '1' ? `{${p}}` : p;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
