// The ops surface of real lbcheck processes on the lab and the test Redis:
// /metrics after real checks (counters move by the right amounts, histograms
// observed, BullMQ's queue gauges present), /healthz and /readyz with Redis up
// and down and with the worker's LBs reachable or not, the JSON log of every
// process (LBCHECK_LOG), and the queue dashboard refused without the admin
// token and served with it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLab, type Lab } from '../lab/lab.js';
import { deleteKeys, TEST_REDIS, writeLabInventory } from '../pipeline/harness.js';
import { CuttableProxy } from '../pipeline/cuttable-proxy.js';
import { baseEnv, getJson, startLbcheck, until, type LbcheckProcess } from './ops-process.js';
import { sample, scrape } from './scrape.js';

let lab: Lab;
let dir: string;
let inventory: string;
const prefixes: string[] = [];
const running: LbcheckProcess[] = [];

function prefix(): string {
  const p = `lbo-${randomBytes(4).toString('hex')}`;
  prefixes.push(p);
  return p;
}

function spawnLbcheck(args: string[], env: Record<string, string>): LbcheckProcess {
  const p = startLbcheck(args, baseEnv({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix(), ...env }));
  running.push(p);
  return p;
}

function logLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

before(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-ops-lab-'));
  inventory = writeLabInventory(lab, dir);
  // The policy's console rule names the user the spawned console runs as.
  writeFileSync(inventory, readFileSync(inventory, 'utf8').replace('console:tester', `console:${userInfo().username}`));
});
after(async () => {
  for (const p of running) await p.stop();
  for (const p of prefixes) await deleteKeys(p);
  lab?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('lbcheck start: metrics after real checks', { timeout: 120_000 }, () => {
  it('counts commands, checks, steps and posts by the right amounts, with queue gauges and process metrics', async () => {
    const logFile = join(dir, 'start.log');
    const p = spawnLbcheck(['start'], {
      LBCHECK_CONFIG: inventory,
      LBCHECK_LOG: logFile,
      LBCHECK_AUDIT_DIR: join(dir, 'audit'),
      LBCHECK_EVIDENCE_DIR: join(dir, 'evidence'),
    });
    const url = await p.opsUrl();
    await until(() => p.out().includes('Type /lbcheck help') || undefined, 'the console prompt');
    const before = await scrape(url);
    assert.equal(sample(before, 'lbcheck_checks_total', { culprit: 'none' }), undefined);
    assert.ok(sample(before, 'process_cpu_user_seconds_total')! >= 0, 'default process metrics');

    p.child.stdin.write('/lbcheck help\n/lbcheck no-such-vip\n/lbcheck haproxy-http\n/lbcheck dnat\n');
    await until(
      () => (p.out().match(/No fault found/g)?.length === 2 ? true : undefined),
      () => `two diagnoses; the console said:\n${p.out()}`,
      60_000,
    );
    // The last post is counted once the poster marked it posted, just after it printed.
    const posted = (s: Awaited<ReturnType<typeof scrape>>): number | undefined =>
      sample(s, 'lbcheck_posts_total', { platform: 'console', outcome: 'posted' });
    const m = await until(async () => {
      const s = await scrape(url);
      return posted(s) === 8 ? s : undefined;
    }, 'eight posts (three steps and a diagnosis per check)');

    const cmd = (outcome: string): number | undefined =>
      sample(m, 'lbcheck_commands_total', { platform: 'console', outcome });
    assert.deepEqual([cmd('queued'), cmd('answered'), cmd('refused'), cmd('error')], [2, 1, 1, undefined]);
    assert.equal(sample(m, 'lbcheck_checks_total', { culprit: 'none', platform: 'console', zone: 'default' }), 2);
    for (const step of ['reach', 'mode', 'servers']) {
      assert.equal(sample(m, 'lbcheck_step_seconds_count', { step, verdict: 'pass' }), 2, `${step} observed twice`);
      assert.ok(sample(m, 'lbcheck_step_seconds_sum', { step, verdict: 'pass' })! > 0, `${step} took time`);
      assert.equal(sample(m, 'lbcheck_step_seconds_bucket', { step, verdict: 'pass', le: '+Inf' }), 2);
    }
    assert.equal(sample(m, 'lbcheck_check_seconds_count'), 2);
    assert.ok(sample(m, 'lbcheck_check_seconds_sum')! > 0);
    assert.equal(sample(m, 'lbcheck_posts_total', { platform: 'console', outcome: 'retried' }), undefined);
    // Both checks done: no capture slot held; the warm SSH connection to the lab LB stays open.
    // The LB as lbcheck names it everywhere: inventory name and SSH address.
    const lb = m.find((s) => s.name === 'lbcheck_ssh_sessions')?.labels.lb ?? '';
    assert.match(lb, /^lab-lb \(\S+:22\)$/);
    assert.equal(sample(m, 'lbcheck_captures_active', { lb }), 0);
    assert.equal(sample(m, 'lbcheck_ssh_sessions', { lb, state: 'open' }), 1);
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'checks', state: 'completed' }), 2);
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'checks', state: 'waiting' }), 0);
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'reports-console', state: 'failed' }), 0);
    // Per check: the "queued" notice (chat posts its parent with it; the console prints nothing for it), three
    // steps and the diagnosis.
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'reports-console', state: 'completed' }), 10);

    const health = await getJson(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.process, 'start');
    const ready = await getJson(`${url}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const checks = ready.body.checks as Record<string, { ok: boolean; detail: string }>;
    assert.deepEqual(Object.keys(checks).sort(), ['inventory', 'platform', 'redis', 'ssh']);
    assert.match(checks.ssh?.detail ?? '', /lab-lb .* answers SSH/);
    assert.match(checks.inventory?.detail ?? '', /4 targets, 1 load balancers/);
    // No LBCHECK_ADMIN_TOKEN: no dashboard at all.
    assert.equal((await fetch(`${url}/admin/queues`)).status, 404);

    // One JSON log: every line parses, and the checks are in it with their ids.
    const lines = logLines(logFile);
    assert.ok(
      lines.every((l) => typeof l.level === 'string' && typeof l.msg === 'string' && typeof l.time === 'string'),
    );
    assert.equal(lines.filter((l) => l.msg === 'check done' && l.culprit === 'none').length, 2);
  });
});

describe('the queue dashboard', { timeout: 60_000 }, () => {
  it('is refused without LBCHECK_ADMIN_TOKEN, served with it as bearer or Basic password, and read-only', async () => {
    const token = randomBytes(16).toString('hex');
    const p = spawnLbcheck(['serve'], {
      LBCHECK_CONFIG: inventory,
      LBCHECK_LOG: join(dir, 'serve.log'),
      LBCHECK_ADMIN_TOKEN: token,
    });
    const url = await p.opsUrl();
    assert.match(p.out(), /queue dashboard: http:\/\/127\.0\.0\.1:\d+\/admin\/queues \(LBCHECK_ADMIN_TOKEN\)/);
    const none = await fetch(`${url}/admin/queues`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="lbcheck admin"/);
    assert.equal(
      (await fetch(`${url}/admin/queues/api/queues`, { headers: { authorization: 'Bearer wrong-token-0000000' } }))
        .status,
      401,
    );
    assert.equal(
      (
        await fetch(`${url}/admin/queues/api/queues`, {
          headers: { authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` },
        })
      ).status,
      401,
    );

    const bearer = { authorization: `Bearer ${token}` };
    const page = await fetch(`${url}/admin/queues`, { headers: bearer });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const basic = { authorization: `Basic ${Buffer.from(`ops:${token}`).toString('base64')}` };
    const api = await getJson(`${url}/admin/queues/api/queues`, basic);
    assert.equal(api.status, 200);
    const queues = api.body.queues as { name: string; readOnlyMode: boolean }[];
    assert.deepEqual(queues.map((q) => q.name).sort(), ['checks', 'reports-console']);
    assert.ok(queues.every((q) => q.readOnlyMode));
    const pause = await fetch(`${url}/admin/queues/api/queues/checks/pause`, { method: 'PUT', headers: bearer });
    assert.equal(pause.status, 405, 'read-only: an operator cannot pause the checks queue from the board');
  });
});

describe('readiness with Redis down', { timeout: 60_000 }, () => {
  it('/readyz answers 503 naming Redis; /healthz and the process metrics still answer', async () => {
    const proxy = new CuttableProxy(new URL(TEST_REDIS));
    await proxy.start();
    try {
      const p = spawnLbcheck(['serve'], {
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        LBCHECK_LOG: join(dir, 'down.log'),
      });
      const url = await p.opsUrl();
      assert.equal((await getJson(`${url}/readyz`)).status, 200);
      await proxy.cut();
      const down = await until(async () => {
        const r = await getJson(`${url}/readyz`);
        return r.status === 503 ? r : undefined;
      }, '/readyz to notice Redis is gone');
      assert.equal(down.body.status, 'not ready');
      const redis = (down.body.checks as Record<string, { ok: boolean; detail: string }>).redis;
      assert.equal(redis?.ok, false);
      assert.match(redis?.detail ?? '', new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${proxy.port} does not answer`));
      assert.equal((await getJson(`${url}/healthz`)).status, 200);
      const metrics = await fetch(`${url}/metrics`);
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.match(text, /^# queue metrics unavailable: /m);
    } finally {
      await proxy.cut();
    }
  });
});

describe('lbcheck worker', { timeout: 60_000 }, () => {
  it('logs JSON to LBCHECK_LOG and is ready when an LB of its zone answers SSH', async () => {
    const logFile = join(dir, 'worker.log');
    const p = spawnLbcheck(['worker'], { LBCHECK_CONFIG: inventory, LBCHECK_LOG: logFile });
    const url = await p.opsUrl(logFile);
    const ready = await getJson(`${url}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.process, 'worker');
    const started = logLines(logFile).find((l) => l.msg === 'worker started');
    assert.equal(started?.process, 'worker');
    assert.equal(started?.metrics, `${url}/metrics`);
    assert.equal(p.err(), '', 'nothing on stderr: the log went to LBCHECK_LOG');
    const m = await scrape(url);
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'checks', state: 'waiting' }), 0);
  });

  it('is not ready when no LB of its zone answers SSH, and says which', async () => {
    // An LB whose management address is a lab server: it exists, and nothing there speaks SSH.
    const s1 = lab.servers[0];
    assert.ok(s1);
    const file = join(dir, 'dead-lb.yaml');
    writeFileSync(
      file,
      readFileSync(inventory, 'utf8').replace(/ssh: ssh:\/\/root@\S+/, `ssh: ssh://root@${s1.address}:22`),
    );
    const logFile = join(dir, 'worker-dead.log');
    const p = spawnLbcheck(['worker'], { LBCHECK_CONFIG: file, LBCHECK_LOG: logFile });
    const url = await p.opsUrl(logFile);
    const ready = await getJson(`${url}/readyz`);
    assert.equal(ready.status, 503);
    const ssh = (ready.body.checks as Record<string, { ok: boolean; detail: string }>).ssh;
    assert.match(
      ssh?.detail ?? '',
      new RegExp(`^no LB of zone default answers SSH: lab-lb: .*${s1.address.replace(/\./g, '\\.')}`),
    );
  });
});
