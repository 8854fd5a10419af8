// The policy gate at command intake, for each platform's identity shape, on
// real Redis and BullMQ: allowed requests are queued; every refusal names its
// rule and contact and queues nothing; limits hold across bot processes; an
// edited policy applies without a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { AuditLog } from '../../src/audit/audit-log.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { InventoryHolder } from '../../src/inventory/inventory-holder.js';
import { createLogger } from '../../src/log.js';
import { policyWarnings } from '../../src/policy/load-policy.js';
import { handleCommand, type Incoming, type IntakeDeps } from '../../src/pipeline/intake.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS_ENV, testPrefix, testRedis } from '../pipeline/harness.js';

const FP = `SHA256:${'a'.repeat(43)}`;
const policyYaml = (extraUsers = ''): string => `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "${FP}" }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge }
  api-vip: { address: 198.18.201.2, port: 443, lb: edge }
  db-vip: { address: 198.18.201.3, port: 5432, lb: edge, protocol: tcp }
policy:
  contact: "Ask #netops-policy (owners: alice) to be added."
  admins: [slack:UADMIN]
  rules:
    - name: oncall
      users: [slack:UONCALL, "teams:aad-oncall", console:alice${extraUsers}]
      groups: [slack:SNETOPS, teams:team-netops]
      channels: [slack:CINCIDENT, "teams:19:incident@thread.tacv2", console:console]
      targets: [web-vip, "api-*"]
      cidrs: [198.18.0.0/16]
  limits: { perUserPerMinute: 3, perChannelPerMinute: 50, inFlightPerTarget: 2 }
`;

let dir: string;
let file: string;
let backend: Backend;
let holder: InventoryHolder;
let deps: IntakeDeps;
let audit: AuditLog;
const prefix = testPrefix('lbt');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-policy-'));
  file = join(dir, 'inventory.yaml');
  writeFileSync(file, policyYaml());
  const log = createLogger('silent');
  holder = new InventoryHolder(file, log).watch(50);
  backend = await connectBackend(readConfig({ ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix }), false);
  audit = new AuditLog(join(dir, 'audit'));
  deps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory: () => holder.current,
    log,
    prefix: '/lbcheck',
    audit,
  };
});
after(async () => {
  holder.close();
  await backend.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const slack = (user: string, channel = 'CINCIDENT', groups: string[] = []): Omit<Incoming, 'text'> => ({
  requester: { platform: 'slack', id: user, groups },
  replyTo: { platform: 'slack', channel },
});
const teams = (user: string, channel = '19:incident@thread.tacv2'): Omit<Incoming, 'text'> => ({
  requester: { platform: 'teams', id: user },
  replyTo: { platform: 'teams', channel },
});
const consoleUser = (user: string): Omit<Incoming, 'text'> => ({
  requester: { platform: 'console', id: user },
  replyTo: { platform: 'console', channel: 'console' },
});

async function queued(): Promise<number> {
  const connection = testRedis({ maxRetriesPerRequest: null });
  const q = new Queue('checks', { connection, prefix });
  const n = await q.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed');
  await q.close();
  connection.disconnect();
  return n;
}

async function send(who: Omit<Incoming, 'text'>, text: string): Promise<{ kind: string; text: string }> {
  return handleCommand({ ...who, text }, deps);
}

async function refused(who: Omit<Incoming, 'text'>, text: string, reason: RegExp): Promise<void> {
  const before = await queued();
  const r = await send(who, text);
  assert.equal(r.kind, 'refused', r.text);
  assert.match(r.text, /^Refused by the lbcheck policy: /);
  assert.match(r.text, reason);
  assert.match(r.text, /Ask #netops-policy \(owners: alice\) to be added\.$/);
  assert.equal(await queued(), before, 'a refused command queued something');
  // Audited: who, what, and the reason, as the last record.
  const last = audit.records().at(-1);
  assert.ok(last?.type === 'command', 'no audit record for the refusal');
  assert.equal(last.outcome, 'refused');
  assert.equal(last.user, who.requester.id);
  assert.equal(last.platform, who.requester.platform);
  assert.equal(last.command, text);
  assert.equal(last.reason, r.text);
}

describe('who and where, per platform identity', () => {
  it('an allowed user in an allowed channel is queued (Slack user, Slack user group, Teams AAD id, console login)', async () => {
    for (const [who, text] of [
      [slack('UONCALL'), 'web-vip'],
      [slack('UGROUPIE', 'CINCIDENT', ['SNETOPS']), 'api-vip'],
      [teams('aad-oncall'), 'web-vip'],
      [consoleUser('alice'), 'api-vip'],
    ] as const) {
      const r = await send(who, text);
      assert.equal(r.kind, 'queued', `${who.requester.platform}:${who.requester.id}: ${r.text}`);
    }
  });

  it('a user in no rule is refused, naming the identity', async () => {
    await refused(slack('UNOBODY'), 'web-vip', /you \(slack:UNOBODY\) are not allowed by any lbcheck policy rule/);
    await refused(teams('aad-stranger'), 'web-vip', /you \(teams:aad-stranger\) are not allowed/);
    await refused(consoleUser('mallory'), 'web-vip', /you \(console:mallory\) are not allowed/);
  });

  it('an allowed user in another channel is refused, naming the channel and the allowed ones', async () => {
    await refused(
      slack('UONCALL', 'CRANDOM'),
      'web-vip',
      /may not be used in this channel \(slack:CRANDOM\); rule "oncall" allows slack:CINCIDENT/,
    );
    await refused(
      teams('aad-oncall', '19:general@thread.tacv2'),
      'web-vip',
      /this channel \(teams:19:general@thread\.tacv2\)/,
    );
  });

  it('status and history need the same who and where', async () => {
    await refused(slack('UNOBODY'), 'history', /not allowed/);
    assert.equal((await send(slack('UONCALL'), 'history')).kind, 'info');
  });
});

describe('what', () => {
  it('an inventory target the rule does not list is refused', async () => {
    await refused(
      teams('aad-oncall'),
      'db-vip',
      /target "db-vip" is not one you may check \(rule "oncall" allows web-vip, api-\*\)/,
    );
  });
  it('an ad-hoc ip:port outside the allowed ranges is refused; inside, it is queued', async () => {
    await refused(
      teams('aad-oncall'),
      '198.19.5.5:80',
      /198\.19\.5\.5:80 is not in the inventory and 198\.19\.5\.5 is outside the ranges rule "oncall" allows \(198\.18\.0\.0\/16\)/,
    );
    assert.equal((await send(teams('aad-oncall'), '198.18.7.7:80')).kind, 'queued');
  });
  it('a member outside the allowed ranges is refused', async () => {
    await refused(
      slack('UONCALL'),
      'web-vip --members 198.18.3.1:80,198.19.9.9:8080',
      /member 198\.19\.9\.9:8080 is outside the ranges rule "oncall" allows/,
    );
  });
  it('an inventory VIP named by its address is treated as that target', async () => {
    await refused(teams('aad-oncall'), '198.18.201.3:5432', /target "db-vip" is not one you may check/);
  });
});

describe('how often', () => {
  it('per-user limit: the 4th check in a minute is refused, and the count is shared by another bot process', async () => {
    const other = await connectBackend(readConfig({ ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix }), false);
    try {
      const otherDeps = { ...deps, state: other.intakeState, bus: other.bus };
      const who = slack('ULIMITED', 'CINCIDENT', ['SNETOPS']);
      assert.equal((await send(who, '198.18.8.1:80')).kind, 'queued');
      assert.equal((await handleCommand({ ...who, text: '198.18.8.2:80' }, otherDeps)).kind, 'queued');
      assert.equal((await send(who, '198.18.8.3:80')).kind, 'queued');
      const before = await queued();
      const r = await handleCommand({ ...who, text: '198.18.8.4:80' }, otherDeps);
      assert.equal(r.kind, 'refused');
      assert.match(r.text, /reached the limit of 3 checks per minute/);
      assert.equal(await queued(), before);
    } finally {
      await other.close();
    }
  });
  it('in-flight cap per target: a third queued check of the same target is refused', async () => {
    // web-vip already has checks queued by earlier tests (no worker runs them); count them.
    const flying = (await backend.state.inFlight()).filter((r) => r.request.target === 'web-vip').length;
    assert.ok(flying >= 2, `expected at least 2 web-vip checks in flight, found ${flying}`);
    await refused(
      consoleUser('alice'),
      'web-vip',
      /checks of web-vip are already queued or running .*wait for them or cancel one/,
    );
  });
});

describe('cancel', () => {
  it('only the requester or a policy admin may cancel', async () => {
    const ack = await send(slack('UONCALL'), '198.18.9.9:80');
    const id = /Queued (chk-[0-9a-f]{10})/.exec(ack.text)?.[1] ?? assert.fail(ack.text);
    await refused(
      slack('UGROUPIE', 'CINCIDENT', ['SNETOPS']),
      `cancel ${id}`,
      /only UONCALL \(who asked for chk-[0-9a-f]{10}\) or a policy admin may cancel it/,
    );
    await refused(slack('UNOBODY'), `cancel ${id}`, /not allowed by any lbcheck policy rule/);
    const byAdmin = await send(
      { ...slack('UADMIN'), requester: { platform: 'slack', id: 'UADMIN', groups: ['SNETOPS'] } },
      `cancel ${id}`,
    );
    assert.match(byAdmin.text, /Cancelled chk-[0-9a-f]{10} before it started/);
  });

  it('a check back in the queue after an attempt ran is not said to have never started', async () => {
    const ack = await send(slack('UONCALL'), '198.18.9.9:80');
    const id = /Queued (chk-[0-9a-f]{10})/.exec(ack.text)?.[1] ?? assert.fail(ack.text);
    // As a worker leaves it when an attempt fails and the queue will run it again: running, job delayed.
    await backend.intakeState.updateCheck(id, { status: 'running', worker: 'w1' });
    const cancel = await send(slack('UONCALL'), `cancel ${id}`);
    assert.equal(cancel.text, `Cancelled ${id}: it was waiting to be tried again and will not be.`);
  });
});

describe('audit of policy decisions', () => {
  it('every refusal above is in a verifiable audit log', () => {
    const refusals = audit.records().filter((r) => r.type === 'command' && r.outcome === 'refused');
    assert.ok(refusals.length >= 10, `only ${refusals.length} refusals audited`);
    assert.deepEqual(verifyAudit(audit.file, audit.evidence).problems, []);
  });
});

describe('policy file', () => {
  it('an edit applies without a restart; a broken edit keeps the last good policy', async () => {
    await refused(slack('UNEWHIRE'), 'web-vip', /not allowed/);
    const v = holder.version;
    writeFileSync(file, policyYaml(', slack:UNEWHIRE'));
    const deadline = Date.now() + 5000;
    while (holder.version === v && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await send(slack('UNEWHIRE'), '198.18.10.10:80')).kind, 'queued');
    writeFileSync(file, `${policyYaml()}\n  bogus: [`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      (await send(slack('UNEWHIRE'), 'history')).kind,
      'info',
      'the broken edit must not replace the loaded policy',
    );
  });

  it('without a policy section, chat platforms are refused and the console is trusted; allowEveryone warns', async () => {
    const { parseInventory } = await import('../../src/inventory/load-inventory.js');
    const bare = parseInventory(policyYaml().split('policy:')[0] ?? '', 'bare.yaml');
    const bareDeps = { ...deps, inventory: () => bare };
    const r = await handleCommand({ ...slack('UONCALL'), text: 'web-vip' }, bareDeps);
    assert.match(r.text, /no access policy is configured/);
    assert.equal((await handleCommand({ ...consoleUser('anyone'), text: 'history' }, bareDeps)).kind, 'info');
    assert.match(policyWarnings(bare.policy)[0] ?? '', /chat platforms are refused/);
    const open = parseInventory(`${policyYaml().split('policy:')[0]}policy:\n  allowEveryone: true\n`, 'open.yaml');
    assert.match(policyWarnings(open.policy)[0] ?? '', /allows everyone on every platform/);
  });

  it('policy mistakes are reported with their line', async () => {
    const { parseInventory } = await import('../../src/inventory/load-inventory.js');
    const bad = `${policyYaml().split('policy:')[0]}policy:\n  rules:\n    - name: x\n      users: [U123]\n      targets: [nope-vip]\n      cidrs: [198.18.0.0/99]\n`;
    assert.throws(
      () => parseInventory(bad, 'p.yaml'),
      (err: Error) => {
        assert.match(err.message, /p\.yaml:\d+: rule "x" users: "U123" must be platform:id/);
        assert.match(err.message, /p\.yaml:\d+: rule "x" names target "nope-vip", which is not in vips/);
        assert.match(err.message, /p\.yaml:\d+: rule "x" cidrs: "198\.18\.0\.0\/99" is not a CIDR range/);
        return true;
      },
    );
  });
});
