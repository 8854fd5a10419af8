// Jobs written straight into Redis: with LBCHECK_JOB_KEY nothing unsealed or
// altered runs or is posted; the worker re-applies the policy to what it is
// asked to run; and names from a report never become paths outside the
// evidence directory. Real Redis and BullMQ; no network beyond loopback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ConsoleAdapter } from '../../adapters/console/console-adapter.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { exportCheck } from '../../src/audit/export.js';
import type { Step } from '../../src/model/report.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { JobSeal } from '../../src/pipeline/job-seal.js';
import { CHECK_ATTEMPTS, MAX_QUEUE_WAIT_MS, type JobBus } from '../../src/pipeline/job-bus.js';
import { registry } from '../../src/ops/metrics.js';
import { BackendUnavailableError } from '../../src/errors.js';
import { parseExposition, sample } from '../ops/scrape.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import type { CheckRequest, ReportJob } from '../../src/model/jobs.js';
import { SessionPool } from '../../src/remote/session-pool.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { processCheck } from '../../workers/probe/check-processor.js';
import { processReport } from '../../workers/bot/report-poster.js';
import { deleteKeys, TEST_REDIS } from './harness.js';

const KEY = 'k'.repeat(40);
const prefix = `lbj-${randomBytes(4).toString('hex')}`;
let backend: Backend;
let connection: Redis;
let dir: string;

before(async () => {
  backend = await connectBackend(
    readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix, LBCHECK_JOB_KEY: KEY }),
    false,
  );
  connection = new Redis(TEST_REDIS, { maxRetriesPerRequest: null });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-trust-'));
});
after(async () => {
  await backend.close();
  connection.disconnect();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const request = (over: Partial<CheckRequest> = {}): CheckRequest => ({
  checkId: `chk-${randomBytes(5).toString('hex')}`,
  target: 'web-vip',
  members: [],
  all: false,
  requester: { platform: 'slack', id: 'UONCALL' },
  replyTo: { platform: 'slack', channel: 'CINCIDENT' },
  zone: 'default',
  requestedAt: new Date().toISOString(),
  ...over,
});

async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LBCHECK_JOB_KEY', () => {
  it('a check job written into Redis without the seal, or altered after sealing, never runs', async () => {
    const ran: string[] = [];
    const consumer = backend.bus.runChecks(
      'default',
      1,
      (r) => {
        ran.push(r.checkId);
        return Promise.resolve();
      },
      () => Promise.resolve(),
    );
    const raw = new Queue('checks', { connection, prefix });
    try {
      const forged = request({ members: ['198.19.9.9:22'] });
      await raw.add('check', forged, { jobId: forged.checkId });
      const honest = request();
      const altered = {
        ...new JobSeal(KEY).seal('checks', honest.checkId, honest),
        members: ['198.19.9.9:22'],
        checkId: request().checkId,
      };
      await raw.add('check', altered, { jobId: altered.checkId });
      const wrongRequest = request();
      const wrongKey = new JobSeal('x'.repeat(40)).seal('checks', wrongRequest.checkId, wrongRequest);
      await raw.add('check', wrongKey, { jobId: wrongKey.checkId });
      const good = request();
      await backend.bus.addCheck(good);
      await until(() => ran.includes(good.checkId), 'the sealed check');
      assert.deepEqual(ran, [good.checkId]);
    } finally {
      await consumer.close();
      await raw.close();
    }
  });

  it('a report written into Redis without the seal is never posted', async () => {
    const posted: string[] = [];
    const consumer = backend.bus.runReports(['slack'], (r) => {
      posted.push(r.checkId);
      return Promise.resolve('done');
    });
    const raw = new Queue('reports-slack', { connection, prefix });
    try {
      const forged = request();
      await raw.add('error', {
        kind: 'error',
        message: 'phish',
        checkId: forged.checkId,
        request: forged,
        worker: 'x',
        seq: 1,
      });
      const good = request();
      await backend.bus.addReport({
        kind: 'error',
        message: 'ok',
        checkId: good.checkId,
        request: good,
        worker: 'w',
        seq: 1,
      });
      await until(() => posted.includes(good.checkId), 'the sealed report');
      assert.deepEqual(posted, [good.checkId]);
    } finally {
      await consumer.close();
      await raw.close();
    }
  });
});

/** lbcheck_jobs_refused_total for one queue kind and reason. */
const refusals = async (queue: string, reason: string): Promise<number> =>
  sample(parseExposition(await registry.metrics()), 'lbcheck_jobs_refused_total', { queue, reason }) ?? 0;

async function untilAsync(test: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await test())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a sealed job runs once (replays refused)', () => {
  it("a finished check's data re-added under a new id, or under its own id, is refused, counted, and never runs", async () => {
    const ran: string[] = [];
    const consumer = backend.bus.runChecks(
      'default',
      1,
      (r) => {
        ran.push(r.checkId);
        return Promise.resolve();
      },
      () => Promise.resolve(),
    );
    const raw = new Queue('checks', { connection, prefix });
    try {
      const good = request();
      await backend.bus.addCheck(good);
      await until(() => ran.length === 1, 'the sealed check');
      const finished = await raw.getJob(good.checkId);
      await untilAsync(async () => (await finished?.getState()) === 'completed', 'the check to finish');
      const data = finished?.data as unknown;
      assert.ok(data && typeof data === 'object' && 'seal' in data, 'the job was sealed');

      const otherId = await refusals('checks', 'other-id');
      await raw.add('check', data, { jobId: request().checkId });
      await untilAsync(async () => (await refusals('checks', 'other-id')) === otherId + 1, 'the other-id refusal');

      // Under its own id once the original is gone: the seal's nonce was used by that job.
      const replayed = await refusals('checks', 'replayed');
      await finished?.remove();
      await raw.add('check', data, { jobId: good.checkId });
      await untilAsync(async () => (await refusals('checks', 'replayed')) === replayed + 1, 'the replay refusal');

      assert.deepEqual(ran, [good.checkId]);
    } finally {
      await consumer.close();
      await raw.close();
    }
  });

  it("a check sealed longer ago than the queue's maximum wait is refused, counted, and never runs", async () => {
    const ran: string[] = [];
    const consumer = backend.bus.runChecks(
      'default',
      1,
      (r) => {
        ran.push(r.checkId);
        return Promise.resolve();
      },
      () => Promise.resolve(),
    );
    const raw = new Queue('checks', { connection, prefix });
    try {
      const before = await refusals('checks', 'stale');
      const old = request();
      const issued = Date.now() - MAX_QUEUE_WAIT_MS.checks - 60_000;
      await raw.add('check', new JobSeal(KEY).seal('checks', old.checkId, old, issued), { jobId: old.checkId });
      await untilAsync(async () => (await refusals('checks', 'stale')) === before + 1, 'the stale refusal');
      const fresh = request();
      await backend.bus.addCheck(fresh);
      await until(() => ran.length > 0, 'the fresh check');
      assert.deepEqual(ran, [fresh.checkId]);
    } finally {
      await consumer.close();
      await raw.close();
    }
  });

  it('the queue running the same sealed job again (a retry) is not a replay', async () => {
    const attempts: number[] = [];
    const consumer = backend.bus.runChecks(
      'default',
      1,
      (_r, ctx) => {
        attempts.push(ctx.attempt);
        // Retryable (the error table): the queue runs the job again after its backoff.
        if (ctx.attempt === 1) return Promise.reject(new BackendUnavailableError('injected'));
        return Promise.resolve();
      },
      () => Promise.resolve(),
    );
    try {
      const replayed = await refusals('checks', 'replayed');
      await backend.bus.addCheck(request());
      await until(() => attempts.length === CHECK_ATTEMPTS, 'the retry');
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(await refusals('checks', 'replayed'), replayed);
    } finally {
      await consumer.close();
    }
  });

  it('a report re-added under a new id is not posted, and is counted', async () => {
    const posted: string[] = [];
    const consumer = backend.bus.runReports(['slack'], (r) => {
      posted.push(r.checkId);
      return Promise.resolve('done');
    });
    const raw = new Queue('reports-slack', { connection, prefix });
    try {
      const good = request();
      await backend.bus.addReport({
        kind: 'error',
        message: 'ok',
        checkId: good.checkId,
        request: good,
        worker: 'w',
        seq: 1,
      });
      await until(() => posted.length === 1, 'the sealed report');
      const job = await raw.getJob(`${good.checkId}-error`);
      assert.ok(job, 'the report job is kept');
      const before = await refusals('reports', 'other-id');
      await raw.add('error', job.data as unknown, { jobId: `${good.checkId}-error-again` });
      await untilAsync(async () => (await refusals('reports', 'other-id')) === before + 1, 'the refusal');
      assert.deepEqual(posted, [good.checkId]);
    } finally {
      await consumer.close();
      await raw.close();
    }
  });
});

describe('the worker checks the job again', () => {
  const inventory = parseInventory(
    `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "SHA256:${'a'.repeat(43)}" }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge }
  db-vip: { address: 198.18.201.3, port: 5432, lb: edge }
policy:
  rules:
    - name: oncall
      users: [slack:UONCALL]
      channels: [slack:CINCIDENT]
      targets: [web-vip]
      cidrs: [198.18.0.0/16]
`,
    'trust.yaml',
  );

  async function run(r: CheckRequest): Promise<ReportJob[]> {
    const reports: ReportJob[] = [];
    const bus = {
      addReport: (job: ReportJob) => {
        reports.push(job);
        return Promise.resolve();
      },
    } as unknown as JobBus;
    const state = new MemoryState();
    await state.createCheck(r);
    await processCheck(
      r,
      {
        state,
        bus,
        inventory: () => inventory,
        sessions: new SessionPool(),
        log: createLogger('silent'),
        worker: 'test',
        capturesPerLb: 1,
        connectTimeoutMs: 100,
        silentMs: 100,
        evidenceMaxBytes: 1024,
        evidenceTtlSeconds: 60,
        localCapture: false,
      },
      { attempt: 1, maxAttempts: 1 },
    );
    return reports;
  }

  it('members, targets, users and channels the intake would refuse are refused by the worker, before any probe', async () => {
    for (const [r, reason] of [
      [request({ members: ['198.19.9.9:22'] }), /member 198\.19\.9\.9:22 is outside the ranges/],
      [request({ target: 'db-vip' }), /target "db-vip" is not one you may check/],
      // Loopback: even a worker that failed to refuse would send nothing off this machine.
      [request({ target: '127.0.0.1:9' }), /outside the ranges/],
      [request({ requester: { platform: 'slack', id: 'UEVIL' } }), /you \(slack:UEVIL\) are not allowed/],
      [request({ replyTo: { platform: 'slack', channel: 'COTHER' } }), /may not be used in this channel/],
    ] as const) {
      const reports = await run(r);
      assert.equal(reports.length, 1);
      const only = reports[0];
      assert.equal(only?.kind, 'error');
      assert.match(only?.kind === 'error' ? only.message : '', reason);
      assert.match(only?.kind === 'error' ? only.message : '', /checked again by the worker/);
    }
  });

  it('a job with a check id that is not one is dropped without a report', async () => {
    assert.deepEqual(await run(request({ checkId: '../../etc' })), []);
  });
});

describe('names that become paths', () => {
  const step = {
    step: 1,
    name: 'reach',
    verdict: 'pass',
    summary: 'ok',
    evidence: [],
    ms: 1,
    outcome: 'connected',
    lbSawSyn: true,
    answeredBy: 'lb',
    probe: { from: '198.18.0.1', sourcePort: 40000 },
  } as unknown as Step;

  it('a report naming evidence "../../x" is refused whole, and the console never writes outside its directory', async () => {
    const evidenceDir = join(dir, 'evidence');
    const output = new PassThrough();
    let printed = '';
    output.on('data', (d: Buffer) => (printed += d.toString()));
    const consoleAdapter = new ConsoleAdapter({
      input: new PassThrough(),
      output,
      evidenceDir,
      user: 'tester',
      intake: () => Promise.resolve({ kind: 'info', text: '' }),
    });
    const r = request({ replyTo: { platform: 'console', channel: 'console' } });
    const state = new MemoryState();
    const sha = 'a'.repeat(64);
    await state.putEvidence(sha, Buffer.from('pwned'), 60);
    const job = {
      kind: 'step',
      checkId: r.checkId,
      request: r,
      worker: 'w',
      seq: 1,
      step,
      evidence: [{ name: '../../x', sha256: sha, bytes: 5, mediaType: 'text/plain' }],
    } as ReportJob;
    const posters = new Map([['console', consoleAdapter]]);
    assert.equal(await processReport(job, { state, posters, log: createLogger('silent') }), 'done');
    assert.equal(printed, '');
    assert.equal(await state.wasPosted(`${r.checkId}-step1`), false);
    // And the console adapter on its own refuses the name and the check id.
    await consoleAdapter.postStep(
      { request: r, record: undefined, memo: { get: () => Promise.resolve(undefined), set: () => Promise.resolve() } },
      step,
      [{ name: '../../x', sha256: sha, bytes: 5, mediaType: 'text/plain', data: Buffer.from('pwned') }],
    );
    assert.match(printed, /evidence not saved \(expired, or an unsafe file name\): "\.\.\/\.\.\/x"/);
    assert.equal(existsSync(join(dir, 'x')), false);
    assert.deepEqual(readdirSync(join(evidenceDir, r.checkId)), []);
    assert.throws(() =>
      consoleAdapter.postStep(
        {
          request: { ...r, checkId: '../../escape' },
          record: undefined,
          memo: { get: () => Promise.resolve(undefined), set: () => Promise.resolve() },
        },
        step,
        [],
      ),
    );
    assert.equal(existsSync(join(dir, 'escape')), false);
  });

  it('an audit export refuses a check id that is a path', () => {
    const audit = new AuditLog(join(dir, 'audit'));
    assert.throws(() => exportCheck(audit, '../../x'), /is not a check id/);
  });
});
