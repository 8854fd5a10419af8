// --from at intake (issue 17 item 4), on real Redis and BullMQ: one check per
// zone, each on its zone's queue, linked by one group and one moment; limits
// count the command once per user and channel but one in-flight slot per
// zone; a zone the VIP is not served from queues nothing; a check that cannot
// be queued takes the group's others with it; the audit names every check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { AuditLog } from '../../src/audit/audit-log.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand, type Incoming, type IntakeDeps } from '../../src/pipeline/intake.js';
import { checksQueueName, type JobBus } from '../../src/pipeline/job-bus.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { vantageQueuedText } from '../../src/pipeline/vantage-intake.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS_ENV, testPrefix, testRedis } from './harness.js';

const FP = `SHA256:${'a'.repeat(43)}`;
const yaml = `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "${FP}", zone: dc1 }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge, zones: [dc2] }
  api-vip: { address: 198.18.201.2, port: 80, lb: edge, zones: [dc2] }
policy:
  rules:
    - name: oncall
      users: [console:alice, console:bob, console:carol, console:dave]
      targets: ['*']
      cidrs: [198.18.0.0/16]
  limits: { perUserPerMinute: 2, perChannelPerMinute: 50, inFlightPerTarget: 5 }
`;

let dir: string;
let backend: Backend;
let deps: IntakeDeps;
let audit: AuditLog;
const prefix = testPrefix('lbt');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-vantage-intake-'));
  writeFileSync(join(dir, 'inventory.yaml'), yaml);
  const inventory = loadInventory(join(dir, 'inventory.yaml'));
  backend = await connectBackend(readConfig({ ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix }), false);
  audit = new AuditLog(join(dir, 'audit'));
  deps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory: () => inventory,
    log: createLogger('silent'),
    prefix: '/lbcheck',
    audit,
  };
});
after(async () => {
  await backend.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const user = (id: string): Omit<Incoming, 'text'> => ({
  requester: { platform: 'console', id },
  replyTo: { platform: 'console', channel: 'console' },
});

async function queuedIn(zone: string): Promise<number> {
  const connection = testRedis({ maxRetriesPerRequest: null });
  const q = new Queue(checksQueueName(zone), { connection, prefix });
  const n = await q.getJobCountByTypes('waiting', 'active', 'delayed');
  await q.close();
  connection.disconnect();
  return n;
}

const inFlightOf = async (target: string): Promise<number> =>
  (await backend.state.inFlight()).filter((r) => r.request.target === target).length;

describe('--from at intake', () => {
  it('queues one check per zone serving the VIP, linked by one group, and audits them all', async () => {
    const reply = await handleCommand({ ...user('alice'), text: 'web-vip --from all' }, deps);
    assert.equal(reply.kind, 'queued', reply.text);
    assert.ok(reply.kind === 'queued' && reply.vantages);
    const [dc1, dc2] = reply.vantages;
    assert.ok(dc1 && dc2);
    assert.deepEqual([dc1.zone, dc2.zone], ['dc1', 'dc2']);
    assert.notEqual(dc1.checkId, dc2.checkId);
    assert.match(dc1.group?.id ?? '', /^grp-[0-9a-f]{10}$/);
    assert.deepEqual(dc2.group, dc1.group);
    assert.deepEqual(dc1.group?.zones, ['dc1', 'dc2']);
    assert.equal(dc1.requestedAt, dc2.requestedAt);
    assert.equal(reply.text.includes(`dc1 (${dc1.checkId}), dc2 (${dc2.checkId})`), true, reply.text);
    assert.deepEqual([await queuedIn('dc1'), await queuedIn('dc2')], [1, 1]);
    for (const r of [dc1, dc2]) assert.deepEqual((await backend.state.getCheck(r.checkId))?.request, r);
    const last = audit.records().at(-1);
    assert.ok(last?.type === 'command' && last.outcome === 'queued');
    assert.deepEqual(last.vantages, [
      { zone: 'dc1', checkId: dc1.checkId },
      { zone: 'dc2', checkId: dc2.checkId },
    ]);
  });

  it('a --from of one zone is told as one check, not "1 checks … at once"', () => {
    const one = [{ zone: 'dc1', checkId: 'chk-0123456789' }] as Parameters<typeof vantageQueuedText>[2];
    const text = vantageQueuedText('web-vip', false, one, '/lbcheck');
    assert.match(text, /^Queued 1 check of web-vip, from dc1 \(chk-0123456789\)\. /);
  });

  it('more zones than the policy allows in flight per target: refused as such, not as "0 checks … queued"', async () => {
    const file = join(dir, 'one-slot.yaml');
    writeFileSync(file, yaml.replace('inFlightPerTarget: 5', 'inFlightPerTarget: 1'));
    const reply = await handleCommand(
      { ...user('dave'), text: 'api-vip --from all' },
      { ...deps, inventory: () => loadInventory(file) },
    );
    assert.equal(reply.kind, 'refused');
    assert.match(reply.text, /--from asks for 2 checks of api-vip at once, more than the 1 the policy allows/);
    assert.doesNotMatch(reply.text, /already queued/);
  });

  it('a VIP typed as ip:port is served by the zones of its inventory entry', async () => {
    const reply = await handleCommand({ ...user('carol'), text: '198.18.201.2:80 --from all' }, deps);
    assert.equal(reply.kind, 'queued', reply.text);
    assert.deepEqual(reply.kind === 'queued' ? reply.vantages?.map((v) => [v.target, v.zone]) : undefined, [
      ['api-vip', 'dc1'],
      ['api-vip', 'dc2'],
    ]);
  });

  it('refuses an unknown zone or one not serving the VIP, and queues nothing', async () => {
    for (const [text, problem] of [
      ['web-vip --from dc9', /^unknown zone dc9\. Zones serving web-vip: dc1, dc2 \(/],
      ['web-vip --from dc1,default', /^default does not serve web-vip\. /],
    ] as const) {
      const before = [await queuedIn('dc1'), await queuedIn('dc2'), await queuedIn('dc9')];
      const reply = await handleCommand({ ...user('carol'), text }, deps);
      assert.equal(reply.kind, 'refused');
      assert.match(reply.text, problem);
      assert.deepEqual([await queuedIn('dc1'), await queuedIn('dc2'), await queuedIn('dc9')], before);
    }
  });

  it('counts one command against the user limit, and one in-flight slot per zone', async () => {
    // alice's first --from took 1 of her 2 commands a minute and 2 of web-vip's 5 slots.
    assert.equal((await handleCommand({ ...user('alice'), text: 'web-vip --from dc1,dc2' }, deps)).kind, 'queued');
    assert.equal(await inFlightOf('web-vip'), 4);
    const third = await handleCommand({ ...user('alice'), text: 'api-vip --from all' }, deps);
    assert.match(third.text, /you reached the limit of 2 checks per minute/);
    // One slot left: a --from of two zones does not fit, a single check does.
    const two = await handleCommand({ ...user('bob'), text: 'web-vip --from all' }, deps);
    assert.equal(two.kind, 'refused');
    assert.match(two.text, /4 checks of web-vip are already queued or running/);
    assert.equal((await handleCommand({ ...user('bob'), text: 'web-vip' }, deps)).kind, 'queued');
    assert.equal(await inFlightOf('web-vip'), 5);
  });

  it('a check that cannot be queued takes the group with it: nothing stays queued or recorded', async () => {
    let adds = 0;
    const failing = new Proxy(backend.bus, {
      get(target, name, receiver) {
        if (name !== 'addCheck') return Reflect.get(target, name, receiver) as unknown;
        return async (...args: Parameters<JobBus['addCheck']>) => {
          if (++adds === 2) throw new Error('queue unavailable (test)');
          return target.addCheck(...args);
        };
      },
    });
    const before = [await queuedIn('dc1'), await queuedIn('dc2'), await inFlightOf('api-vip')];
    const reply = await handleCommand({ ...user('carol'), text: 'api-vip --from all' }, { ...deps, bus: failing });
    assert.equal(reply.kind, 'refused');
    assert.equal(adds, 2, 'the second zone was never tried');
    assert.deepEqual([await queuedIn('dc1'), await queuedIn('dc2'), await inFlightOf('api-vip')], before);
    assert.deepEqual(verifyAudit(audit.file, audit.evidence).problems, []);
  });

  it("a VIP typed as ip:port without --from is queued under its name, in its LB's zone", async () => {
    const before = [await queuedIn('default'), await queuedIn('dc1')];
    const reply = await handleCommand({ ...user('dave'), text: '198.18.201.2:80' }, deps);
    assert.equal(reply.kind, 'queued', reply.text);
    assert.deepEqual(reply.kind === 'queued' ? [reply.request.target, reply.request.zone] : undefined, [
      'api-vip',
      'dc1',
    ]);
    assert.deepEqual([await queuedIn('default'), await queuedIn('dc1')], [before[0], (before[1] ?? 0) + 1]);
  });
});
