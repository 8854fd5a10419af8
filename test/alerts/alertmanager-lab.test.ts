// Checks that start themselves, end to end: a real Prometheus Alertmanager (Debian's, started here on
// loopback) whose webhook receiver is lbcheck's alert endpoint, alerts fired and resolved with amtool, the
// checks run by a real worker on the lab, posted through real Bolt to the fake Slack Web API.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { handleAlertNotice } from '../../src/alerts/alert-intake.js';
import { startAlertServer, type RunningAlertServer } from '../../src/alerts/alert-server.js';
import type { AuditRecord, CommandRecord, PostRecord } from '../../src/audit/audit-record.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import { startLab, type Lab } from '../lab/lab.js';
import { until } from '../pipeline/platform-base.js';
import { writeLabInventory } from '../pipeline/harness.js';
import { startSlackStack, type SlackStack } from '../slack/slack-stack.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const AMTOOL = '/usr/bin/amtool';
const TOKEN = 'lab-alert-token-'.padEnd(40, 'x');
const run = promisify(execFile);

let lab: Lab;
let stack: SlackStack;
let receiver: RunningAlertServer;
let worker: Closeable | undefined;
let alertmanager: ChildProcess | undefined;
let amUrl: string;
let dir: string;

function requireBinaries(): void {
  for (const bin of [ALERTMANAGER, AMTOOL]) {
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      assert.fail(
        `${bin} is missing: apt-get install prometheus-alertmanager (scripts/provision.sh --with-redis does)`,
      );
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function alertmanagerConfig(receiverUrl: string): string {
  return [
    'route:',
    '  receiver: lbcheck',
    '  group_by: [alertname, lbcheck_target]',
    '  group_wait: 1s',
    '  group_interval: 2s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: lbcheck',
    '    webhook_configs:',
    `      - url: ${receiverUrl}/alerts/alertmanager`,
    '        send_resolved: true',
    '        http_config:',
    '          authorization:',
    `            credentials: ${TOKEN}`,
    '',
  ].join('\n');
}

async function startAlertmanager(receiverUrl: string): Promise<void> {
  writeFileSync(join(dir, 'alertmanager.yml'), alertmanagerConfig(receiverUrl));
  const port = await freePort();
  amUrl = `http://127.0.0.1:${port}`;
  // Dies with this process even on kill -9 (pdeathsig); no cluster gossip (no listener beyond loopback).
  alertmanager = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      '--',
      ALERTMANAGER,
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  alertmanager.stderr?.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-4000)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await fetch(`${amUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline || alertmanager.exitCode !== null)
      assert.fail(`Alertmanager did not become ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** amtool alert add: fires (or, with end, resolves) one alert in Alertmanager. */
async function amtool(labels: string[], end?: string): Promise<void> {
  await run(AMTOOL, [
    `--alertmanager.url=${amUrl}`,
    'alert',
    'add',
    ...labels,
    '--generator-url=http://prometheus.invalid/graph?g0.expr=up',
    ...(end ? [`--end=${end}`] : []),
  ]);
}

const records = (): AuditRecord[] => stack.audit.records();
const alertCommands = (outcome?: string) =>
  records().filter(
    (r): r is AuditRecord & CommandRecord =>
      r.type === 'command' && r.alert !== undefined && (outcome === undefined || r.outcome === outcome),
  );
const posts = (checkId: string) =>
  records().filter((r): r is AuditRecord & PostRecord => r.type === 'post' && r.checkId === checkId);

before(async () => {
  requireBinaries();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-am-'));
  lab = await startLab({ serverCount: 2 });
  // The worker is this test's own: it checks the policy again with the inventory that names the alert source.
  stack = await startSlackStack(lab, false);
  // The lab's inventory with an alerts section and a policy rule for the alert source.
  const base = readFileSync(writeLabInventory(lab, dir), 'utf8').split('policy:')[0] ?? '';
  const inventory = parseInventory(
    [
      base,
      'policy:',
      '  rules:',
      '    - name: alerts',
      '      users: [alert:alertmanager]',
      '      channels: [slack:C0INCIDENT]',
      "      targets: ['*']",
      'alerts:',
      '  routes:',
      '    - targets: [haproxy-http]',
      '      channel: slack:C0INCIDENT',
      '  checkEverySeconds: 3600',
      '  recheckOnResolve: true',
      '',
    ].join('\n'),
    join(dir, 'inventory.yaml'),
  );
  const log = createLogger({ file: join(dir, 'alerts.log') });
  const deps = {
    state: stack.backend.intakeState,
    bus: stack.backend.bus,
    inventory: () => inventory,
    log,
    prefix: '/lbcheck',
    audit: stack.audit,
  };
  worker = startCheckWorker(stack.backend, stack.config, () => inventory, log);
  receiver = await startAlertServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    handle: (n) => handleAlertNotice(n, deps),
    log,
  });
  await startAlertmanager(receiver.url);
});

after(async () => {
  alertmanager?.kill('SIGKILL');
  await receiver?.close();
  await worker?.close();
  await stack?.close();
  lab?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('alerts from a real Alertmanager start checks by themselves', () => {
  let checkId = '';

  it('an alert fired with amtool starts one check per group, in the mapped channel, naming the alert', async () => {
    await amtool(['alertname=LbDown', 'lbcheck_target=haproxy-http', 'instance=a']);
    await until(() => alertCommands('queued').length > 0, 'the check the alert starts', 30_000);
    checkId = alertCommands('queued')[0]?.checkId ?? '';
    // A second alert of the same group: Alertmanager notifies again after group_interval, deduplicated here.
    await amtool(['alertname=LbDown', 'lbcheck_target=haproxy-http', 'instance=b']);
    await until(() => alertCommands('answered').length > 0, 'the group notified again', 30_000);
    await until(() => posts(checkId).some((p) => p.kind === 'final'), 'the diagnosis', 30_000);
    assert.equal(alertCommands('queued').length, 1, 'one check for the group');
    assert.match(alertCommands('answered')[0]?.reason ?? '', /^deduplicated/);
    const parent = stack.fake
      .callsOf('chat.postMessage')
      .find((c) => !c.args.thread_ts && (c.args.text ?? '').includes(checkId));
    assert.equal(parent?.args.channel, 'C0INCIDENT');
    assert.match(
      JSON.stringify(parent?.args.blocks),
      /Started by alert LbDown from Alertmanager · http:\/\/prometheus/,
    );
    const command = alertCommands('queued')[0];
    assert.equal(command?.user, 'alertmanager');
    assert.equal(command?.alert?.name, 'LbDown');
    assert.equal(command?.alert?.fingerprints.length, 1);
  });

  it('resolving the alerts posts the resolved line in the same thread, then a confirming re-check there', async () => {
    const end = new Date().toISOString();
    await amtool(['alertname=LbDown', 'lbcheck_target=haproxy-http', 'instance=a'], end);
    await amtool(['alertname=LbDown', 'lbcheck_target=haproxy-http', 'instance=b'], end);
    await until(
      () => stack.fake.threadOf(checkId).some((t) => t.startsWith('Alert LbDown resolved')),
      'the resolved line in the thread',
      30_000,
    );
    await until(() => alertCommands('queued').length === 2, 'the confirming re-check', 30_000);
    const recheck = alertCommands('queued')[1]?.checkId ?? '';
    await until(() => posts(recheck).some((p) => p.kind === 'final'), "the re-check's diagnosis", 30_000);
    const threads = new Set([...posts(checkId), ...posts(recheck)].map((p) => p.thread));
    assert.equal(threads.size, 1, `one thread for the alert group: ${[...threads].join(', ')}`);
  });

  it('an unauthenticated or forged webhook is refused and starts nothing', async () => {
    const before = alertCommands().length;
    const body = JSON.stringify({ version: '4', groupKey: 'x', status: 'firing', alerts: [] });
    for (const authorization of [
      '',
      `Bearer ${'f'.repeat(40)}`,
      `Basic ${Buffer.from('u:guess').toString('base64')}`,
    ]) {
      const res = await fetch(`${receiver.url}/alerts/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
      assert.equal(res.status, 401, authorization);
    }
    assert.equal(alertCommands().length, before);
  });
});
