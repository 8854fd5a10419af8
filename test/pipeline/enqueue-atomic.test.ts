// A check is recorded as queued only if it was queued: a failed enqueue leaves
// no record and no in-flight slot behind, a record whose job is gone can be
// cancelled, and an in-flight entry that stopped progressing is swept. Real
// Redis and BullMQ; the queue's failure is injected through the bus.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand, type Incoming, type IntakeDeps } from '../../src/pipeline/intake.js';
import { QueueUnavailableError, type JobBus } from '../../src/pipeline/job-bus.js';
import type { CheckRequest } from '../../src/model/jobs.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS } from './harness.js';

const prefix = `lbq-${randomBytes(4).toString('hex')}`;
const inventory = parseInventory(
  `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "SHA256:${'a'.repeat(43)}" }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge }
policy:
  rules:
    - { name: oncall, users: [slack:UONCALL], targets: [web-vip] }
  limits: { perUserPerMinute: 1000, perChannelPerMinute: 1000, inFlightPerTarget: 2 }
`,
  'atomic.yaml',
);
let backend: Backend;
let redis: Redis;
let failing = true;

before(async () => {
  backend = await connectBackend(readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix }), false);
  redis = new Redis(TEST_REDIS);
});
after(async () => {
  await backend.close();
  redis.disconnect();
  await deleteKeys(prefix);
});

function deps(): IntakeDeps {
  // The real bus, except that adding a check fails while `failing` is set (as when Redis drops mid-command).
  const bus: JobBus = Object.create(backend.bus) as JobBus;
  bus.addCheck = (r: CheckRequest) =>
    failing
      ? Promise.reject(new QueueUnavailableError('redis://test', { cause: new Error('injected') }))
      : backend.bus.addCheck(r);
  return {
    state: backend.intakeState,
    bus,
    inventory: () => inventory,
    log: createLogger('silent'),
    prefix: '/lbcheck',
  };
}

const who: Omit<Incoming, 'text'> = {
  requester: { platform: 'slack', id: 'UONCALL' },
  replyTo: { platform: 'slack', channel: 'C1' },
};
const send = (text: string): Promise<{ kind: string; text: string }> => handleCommand({ ...who, text }, deps());

describe('enqueue and record together', () => {
  it('failed enqueues leave no queued record behind, so they cannot block the target', async () => {
    failing = true;
    for (let i = 0; i < 4; i++) {
      const r = await send('web-vip');
      assert.equal(r.kind, 'refused');
      assert.match(r.text, /cannot reach its Redis \(redis:\/\/test\), so nothing was queued/);
      assert.doesNotMatch(r.text, /injected/);
    }
    assert.equal(await backend.state.inFlightCount('web-vip'), 0);
    assert.deepEqual(await backend.state.history('web-vip', 10), []);
    failing = false;
    assert.equal((await send('web-vip')).kind, 'queued');
  });

  it('a record whose job never reached the queue can be cancelled, and then no longer counts', async () => {
    const orphan: CheckRequest = {
      checkId: `chk-${randomBytes(5).toString('hex')}`,
      target: 'web-vip',
      members: [],
      all: false,
      requester: who.requester,
      replyTo: who.replyTo,
      zone: 'default',
      requestedAt: new Date().toISOString(),
    };
    await backend.state.createCheck(orphan); // as if the process died before enqueueing
    const before = await backend.state.inFlightCount('web-vip');
    const r = await send(`cancel ${orphan.checkId}`);
    assert.match(r.text, /^Cancelled chk-[0-9a-f]{10}: no worker had it/);
    assert.equal(await backend.state.inFlightCount('web-vip'), before - 1);
    assert.equal((await backend.state.getCheck(orphan.checkId))?.status, 'cancelled');
  });

  it('an in-flight entry with no progress for an hour, or whose record expired, is swept', async () => {
    const at = (id: string): CheckRequest => ({
      checkId: id,
      target: 'web-vip',
      members: [],
      all: false,
      requester: who.requester,
      replyTo: who.replyTo,
      zone: 'default',
      requestedAt: new Date().toISOString(),
    });
    const stale = at(`chk-${randomBytes(5).toString('hex')}`);
    const expired = at(`chk-${randomBytes(5).toString('hex')}`);
    await backend.state.createCheck(stale);
    await backend.state.createCheck(expired);
    const key = `${prefix}:check:${stale.checkId}`;
    const rec = JSON.parse((await redis.get(key)) ?? '{}') as { updatedAt: string };
    rec.updatedAt = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
    await redis.set(key, JSON.stringify(rec), 'KEEPTTL');
    await redis.del(`${prefix}:check:${expired.checkId}`);
    // The target's entries are scored by when they become overdue: both are by now, as after the hour.
    const due = `${prefix}:inflight-due:web-vip`;
    for (const r of [stale, expired]) await redis.zadd(due, 'XX', Date.now() - 1000, r.checkId);
    assert.notEqual(await redis.zscore(due, expired.checkId), null, 'the expired check had its entry');
    const ids = (await backend.state.inFlight()).map((r) => r.request.checkId);
    assert.ok(!ids.includes(stale.checkId) && !ids.includes(expired.checkId));
    // An expired record no longer names its target: the target's own count sweeps its entry.
    await backend.state.inFlightCount('web-vip');
    assert.equal(await redis.zscore(due, stale.checkId), null);
    assert.equal(await redis.zscore(due, expired.checkId), null);
    assert.equal(await redis.sismember(`${prefix}:inflight`, expired.checkId), 0);
    const swept = await backend.state.getCheck(stale.checkId);
    assert.equal(swept?.status, 'failed');
    assert.match(swept?.error ?? '', /lost: no progress for an hour/);
  });
});
