// The alert receiver over real HTTP with the real intake on the in-process queue and state: who may send,
// what a body must be, and what each notice becomes (one check per group, the storm cap, the resolved line,
// alerts that name no VIP). The same receiver behind a real Alertmanager: alertmanager-lab.test.ts.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { handleAlertNotice } from '../../src/alerts/alert-intake.js';
import { startAlertServer, type RunningAlertServer } from '../../src/alerts/alert-server.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditRecord, CommandRecord } from '../../src/audit/audit-record.js';
import type { Inventory } from '../../src/inventory/inventory-types.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import type { IntakeDeps } from '../../src/pipeline/intake.js';
import type { JobBus } from '../../src/pipeline/job-bus.js';
import type { CheckRequest, ReportJob } from '../../src/model/jobs.js';
import { embeddedBackend } from '../../src/pipeline/backend.js';

const TOKEN = 'a'.repeat(40);
const HMAC_KEY = 'k'.repeat(40);

// Documentation addresses (never sent to: no worker runs in this test, the checks stay queued).
const INVENTORY = `
loadBalancers:
  lb1: { ssh: ssh://root@192.0.2.1, identity: /nonexistent, hostKey: "SHA256:${'A'.repeat(43)}" }
vips:
  web: { address: 192.0.2.10, port: 80, lb: lb1 }
  api: { address: 192.0.2.11, port: 80, lb: lb1 }
  shop: { address: 192.0.2.12, port: 80, lb: lb1 }
policy:
  rules:
    - name: alerts
      users: [alert:alertmanager, alert:generic]
      channels: [slack:C0INCIDENT, slack:C0PAY]
      targets: ['*']
alerts:
  labelTargets:
    service: { checkout: shop }
  routes:
    - labels: { team: payments }
      channel: slack:C0PAY
    - targets: [web, api, shop]
      channel: slack:C0INCIDENT
  checkEverySeconds: 300
  maxChecksPerMinute: 2
  recheckOnResolve: true
`;

let dir: string;
let inventory: Inventory;
let server: RunningAlertServer;
let checks: CheckRequest[];
let reports: ReportJob[];
let audit: AuditLog;

/** The in-process bus, recording what the intake queues (no worker runs: checks stay queued). */
function recordingBus(inner: JobBus): JobBus {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'addCheck') return (r: CheckRequest) => (checks.push(r), target.addCheck(r));
      if (prop === 'addReport') return (r: ReportJob) => (reports.push(r), target.addReport(r));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function startReceiver(): Promise<void> {
  const backend = embeddedBackend();
  const deps: IntakeDeps = {
    state: backend.intakeState,
    bus: recordingBus(backend.bus),
    inventory: () => inventory,
    log: createLogger('silent'),
    prefix: '/lbcheck',
    audit,
  };
  server = await startAlertServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    hmacKey: HMAC_KEY,
    handle: (n) => handleAlertNotice(n, deps),
    log: createLogger('silent'),
  });
}

function alertmanagerBody(status: 'firing' | 'resolved', groupKey: string, labels: Record<string, string>[]) {
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status,
    receiver: 'lbcheck',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid',
    alerts: labels.map((l, i) => ({
      status,
      labels: { alertname: 'LbDown', ...l },
      annotations: {},
      startsAt: '2026-12-06T02:00:00Z',
      endsAt: status === 'resolved' ? '2026-12-06T02:10:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.invalid/graph?g0.expr=up',
      fingerprint: `${i}abc${groupKey.length}`,
    })),
  };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: text,
  });
  return {
    status: res.status,
    body: (await res.json()) as { outcomes?: ({ kind: string } & Record<string, unknown>)[]; error?: string },
  };
}

const kinds = (r: { body: { outcomes?: { kind: string }[] } }): string[] => (r.body.outcomes ?? []).map((o) => o.kind);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-alerts-'));
  inventory = parseInventory(INVENTORY, 'inventory.yaml');
});
beforeEach(async () => {
  await server?.close();
  checks = [];
  reports = [];
  audit = new AuditLog(join(dir, `audit-${Date.now()}-${Math.random()}`));
  await startReceiver();
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('alert receiver: who may send', () => {
  const body = alertmanagerBody('firing', 'g-auth', [{ lbcheck_target: 'web' }]);

  it('refuses a request without the token, with a wrong one, and a forged signature; none starts a check', async () => {
    const attempts: Record<string, string>[] = [
      { authorization: '' },
      { authorization: `Bearer ${'b'.repeat(40)}` },
      { authorization: '', 'x-lbcheck-signature': `sha256=${'0'.repeat(64)}` },
      // Signed with another key: a forger without the key.
      {
        authorization: '',
        'x-lbcheck-signature': `sha256=${createHmac('sha256', 'x'.repeat(40)).update(JSON.stringify(body)).digest('hex')}`,
      },
    ];
    for (const headers of attempts) {
      const r = await post('/alerts/alertmanager', body, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.match(r.body.error ?? '', /not authenticated/);
    }
    assert.equal(checks.length, 0);
  });

  it('accepts the HMAC of the exact body, not of another body', async () => {
    const text = JSON.stringify(body);
    const sig = createHmac('sha256', HMAC_KEY).update(text).digest('hex');
    const ok = await post('/alerts/alertmanager', text, { authorization: '', 'x-lbcheck-signature': `sha256=${sig}` });
    assert.equal(ok.status, 200);
    assert.deepEqual(kinds(ok), ['queued']);
    const tampered = text.replace('"web"', '"api"');
    const bad = await post('/alerts/alertmanager', tampered, {
      authorization: '',
      'x-lbcheck-signature': `sha256=${sig}`,
    });
    assert.equal(bad.status, 401);
    assert.equal(checks.length, 1);
  });

  it('refuses a web page (Origin), a non-JSON content type, a body over 1 MiB, other paths and methods', async () => {
    assert.equal((await post('/alerts/alertmanager', body, { origin: 'http://evil.invalid' })).status, 403);
    assert.equal((await post('/alerts/alertmanager', body, { 'content-type': 'text/plain' })).status, 415);
    const huge = await post('/alerts/generic', `{"pad":"${'x'.repeat(1024 * 1024 + 10)}"}`);
    assert.equal(huge.status, 413);
    assert.equal((await post('/alerts/other', body)).status, 404);
    const get = await fetch(`${server.url}/alerts/alertmanager`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(get.status, 405);
    assert.equal(checks.length, 0);
  });

  it('says what is wrong with a body that is not the form its path expects', async () => {
    const r = await post('/alerts/alertmanager', { version: '3', alerts: [] });
    assert.equal(r.status, 400);
    assert.match(r.body.error ?? '', /not an Alertmanager webhook \(v4\): version/);
    const g = await post('/alerts/generic', { status: 'firing' });
    assert.equal(g.status, 400);
    assert.match(g.body.error ?? '', /dedupKey/);
  });
});

describe('alert receiver: what a notice becomes', () => {
  it('one check per alert group and VIP, posted where the route says, started by the alert source', async () => {
    const first = await post('/alerts/alertmanager', alertmanagerBody('firing', 'g1', [{ lbcheck_target: 'web' }]));
    assert.deepEqual(kinds(first), ['queued']);
    // The group again (Alertmanager re-sends at group_interval), now with a second alert of the same VIP.
    const again = await post(
      '/alerts/alertmanager',
      alertmanagerBody('firing', 'g1', [{ lbcheck_target: 'web' }, { lbcheck_target: 'web', instance: 'b' }]),
    );
    assert.deepEqual(kinds(again), ['deduplicated']);
    assert.equal(checks.length, 1);
    const check = checks[0] as CheckRequest;
    assert.deepEqual(check.replyTo, { platform: 'slack', channel: 'C0INCIDENT' });
    assert.deepEqual(check.requester, { platform: 'alert', id: 'alertmanager', name: 'alert LbDown' });
    assert.equal(check.trigger?.name, 'LbDown');
    assert.equal(check.trigger?.url, 'http://prometheus.invalid/graph?g0.expr=up');
    const audited = audit.records().filter((r): r is AuditRecord & CommandRecord => r.type === 'command');
    assert.deepEqual(
      audited.map((r) => [r.outcome, r.user, r.alert?.groupKey]),
      [
        ['queued', 'alertmanager', 'g1'],
        ['answered', 'alertmanager', 'g1'],
      ],
    );
  });

  it('routes by labels (team: payments) and maps a service label to its VIP', async () => {
    const r = await post(
      '/alerts/alertmanager',
      alertmanagerBody('firing', 'g2', [{ service: 'checkout', team: 'payments' }]),
    );
    assert.deepEqual(kinds(r), ['queued']);
    assert.equal(checks[0]?.target, 'shop');
    assert.equal(checks[0]?.replyTo.channel, 'C0PAY');
  });

  it('an alert that names no VIP, or one not in the inventory, is answered and starts nothing', async () => {
    const r = await post(
      '/alerts/alertmanager',
      alertmanagerBody('firing', 'g3', [{ instance: 'x' }, { lbcheck_target: '192.0.2.99:80' }]),
    );
    assert.deepEqual(kinds(r), ['unrouted', 'unrouted']);
    const whys = (r.body.outcomes ?? []).map((o) => (o as { why?: string }).why);
    assert.match(whys[0] ?? '', /no label names a VIP \(looked for lbcheck_target and the mapped labels service\)/);
    assert.match(whys[1] ?? '', /"192\.0\.2\.99:80" is not a VIP of the inventory/);
    assert.equal(checks.length, 0);
  });

  it('an alert source the policy does not name is refused like a user, and is not claimed', async () => {
    const strict = parseInventory(INVENTORY.replace('alert:alertmanager, alert:generic', 'alert:generic'), 'x');
    const saved = inventory;
    inventory = strict;
    try {
      const r = await post('/alerts/alertmanager', alertmanagerBody('firing', 'g4', [{ lbcheck_target: 'web' }]));
      assert.deepEqual(kinds(r), ['refused']);
      assert.equal(checks.length, 0);
    } finally {
      inventory = saved;
    }
    // Allowed again: the refused notice held no claim, so the same group is checked now.
    const r = await post('/alerts/alertmanager', alertmanagerBody('firing', 'g4', [{ lbcheck_target: 'web' }]));
    assert.deepEqual(kinds(r), ['queued']);
  });

  it('a storm is collapsed: beyond the cap per minute and channel no check, one line in the newest thread', async () => {
    const outcomes: string[] = [];
    for (const g of ['s1', 's2', 's3', 's4'])
      outcomes.push(
        ...kinds(await post('/alerts/generic', { status: 'firing', dedupKey: g, title: g, target: 'api' })),
      );
    assert.deepEqual(outcomes, ['queued', 'queued', 'collapsed', 'collapsed']);
    assert.equal(checks.length, 2);
    const storm = reports.filter((r) => r.kind === 'alert');
    assert.equal(storm.length, 1, 'one storm line per minute and channel');
    assert.equal(storm[0]?.checkId, checks[1]?.checkId, "in the newest alert check's thread");
    assert.match(storm[0]?.kind === 'alert' ? storm[0].text : '', /Alert storm: more than 2 alerts in a minute/);
  });

  it('resolved: a line in the same check thread, then a confirming re-check of that check', async () => {
    await post('/alerts/alertmanager', alertmanagerBody('firing', 'g5', [{ lbcheck_target: 'web' }]));
    const original = checks[0] as CheckRequest;
    const r = await post('/alerts/alertmanager', alertmanagerBody('resolved', 'g5', [{ lbcheck_target: 'web' }]));
    assert.deepEqual(kinds(r), ['resolved']);
    const line = reports.find((x) => x.kind === 'alert');
    assert.equal(line?.checkId, original.checkId);
    assert.match(line?.kind === 'alert' ? line.text : '', /^Alert LbDown resolved at 2026-12-06T02:10:00Z/);
    assert.equal(checks.length, 2);
    assert.equal(checks[1]?.rerunOf, original.checkId);
    // A new firing after the resolve is a new incident: checked at once, not deduplicated.
    const refire = await post('/alerts/alertmanager', alertmanagerBody('firing', 'g5', [{ lbcheck_target: 'web' }]));
    assert.deepEqual(kinds(refire), ['queued']);
  });
});
