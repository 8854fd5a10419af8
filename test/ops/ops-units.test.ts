// The pieces of the ops surface that need no lab: the JSON log (pino, levels,
// redaction), Bolt's and the console's lines routed into it, the merged queue
// exposition, the admin token check and the ops settings.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { boltLogger } from '../../adapters/slack/bolt-logger.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger, loggerFromEnv, routeConsoleToLog } from '../../src/log.js';
import { adminAuthorized } from '../../src/ops/admin-auth.js';
import { mergeExpositions } from '../../src/ops/exposition.js';
import { readOpsConfig } from '../../src/ops/ops-config.js';
import { cachedWhenOk, runProbe } from '../../src/ops/readiness.js';
import { parseExposition, sample } from './scrape.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the JSON log', () => {
  it('writes one JSON object per line with an ISO time, the level name, the message and the fields', () => {
    const file = join(dir, 'plain.log');
    createLogger({ file }, { process: 'serve' }).child({ checkId: 'chk-0123456789' }).log('warn', 'hello', { n: 3 });
    const [line] = lines(file);
    assert.equal(line?.level, 'warn');
    assert.equal(line?.msg, 'hello');
    assert.equal(line?.process, 'serve');
    assert.equal(line?.checkId, 'chk-0123456789');
    assert.equal(line?.n, 3);
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts secrets by field name, at the top, one level down and in headers', () => {
    const file = join(dir, 'redact.log');
    createLogger({ file }).log('info', 'options', {
      token: 'xoxb-SECRET1',
      slack: { signingSecret: 'SECRET2', port: 3000 },
      req: { headers: { authorization: 'Bearer SECRET3', host: 'x' } },
      jobKey: 'SECRET4',
    });
    const text = readFileSync(file, 'utf8');
    for (const s of ['SECRET1', 'SECRET2', 'SECRET3', 'SECRET4']) assert.doesNotMatch(text, new RegExp(s));
    const [line] = lines(file);
    assert.equal(line?.token, '[redacted]');
    assert.deepEqual(line?.slack, { signingSecret: '[redacted]', port: 3000 });
    assert.deepEqual((line?.req as { headers: unknown }).headers, { authorization: '[redacted]', host: 'x' });
  });

  it('honours LBCHECK_LOG_LEVEL and refuses an unknown level, naming the variable', () => {
    const file = join(dir, 'level.log');
    const { log, where } = loggerFromEnv({ LBCHECK_LOG: file, LBCHECK_LOG_LEVEL: 'warn' }, 'stderr', {});
    assert.equal(where, file);
    log.log('info', 'dropped');
    log.log('error', 'kept');
    assert.deepEqual(
      lines(file).map((l) => l.msg),
      ['kept'],
    );
    assert.throws(
      () => loggerFromEnv({ LBCHECK_LOG_LEVEL: 'loud' }, 'stderr', {}),
      (err: unknown) => {
        return (
          err instanceof ConfigError &&
          /LBCHECK_LOG_LEVEL="loud" must be one of debug, info, warn, error/.test(err.message)
        );
      },
    );
  });

  it("takes Bolt's lines at Bolt's level, with objects as redacted detail", () => {
    const file = join(dir, 'bolt.log');
    const bolt = boltLogger(createLogger({ file }));
    bolt.setName('HTTPReceiver');
    bolt.info('not at warn level');
    bolt.warn('Failed to parse and verify the request data:', new Error('bad signature'), { token: 'xoxb-LEAK' });
    const got = lines(file);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.level, 'warn');
    assert.equal(got[0]?.msg, 'Failed to parse and verify the request data: bad signature');
    assert.equal(got[0]?.source, 'bolt:HTTPReceiver');
    assert.deepEqual(got[0]?.detail, { token: '[redacted]' });
  });

  it('routes console.warn and console.error (botbuilder has no logger option) until restored', () => {
    const file = join(dir, 'console.log');
    const restore = routeConsoleToLog(createLogger({ file }));
    try {
      console.error(new Error('BadRequest from botbuilder'));
      console.warn('BadRequest: Missing activity or activity type.');
    } finally {
      restore();
    }
    const got = lines(file);
    assert.deepEqual(
      got.map((l) => [l.level, l.source]),
      [
        ['error', 'console'],
        ['warn', 'console'],
      ],
    );
    assert.match(String(got[0]?.msg), /BadRequest from botbuilder/);
    assert.equal(got[1]?.msg, 'BadRequest: Missing activity or activity type.');
  });
});

describe('ops pieces', () => {
  it('merges per-queue expositions into one block per metric family', () => {
    const q = (name: string, waiting: number): string =>
      [
        '# HELP bullmq_job_count Number of jobs in the queue by state',
        '# TYPE bullmq_job_count gauge',
        `bullmq_job_count{queue="${name}", state="waiting"} ${waiting}`,
        '# HELP bullmq_job_failed_total Total number of failed jobs',
        '# TYPE bullmq_job_failed_total counter',
        `bullmq_job_failed_total{queue="${name}"} 0`,
      ].join('\n');
    const text = mergeExpositions([q('checks', 2), q('reports-slack', 5)]);
    assert.equal(text.match(/# TYPE bullmq_job_count gauge/g)?.length, 1);
    const lines = text.trim().split('\n');
    // The family's samples follow its HELP/TYPE lines, together.
    const first = lines.indexOf('# TYPE bullmq_job_count gauge');
    assert.deepEqual(lines.slice(first + 1, first + 3), [
      'bullmq_job_count{queue="checks",state="waiting"} 2',
      'bullmq_job_count{queue="reports-slack",state="waiting"} 5',
    ]);
    assert.equal(sample(parseExposition(text), 'bullmq_job_count', { queue: 'reports-slack' }), 5);
  });

  it('accepts the admin token as bearer or as the Basic password, nothing else', () => {
    const token = 'a-long-enough-admin-token';
    const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    assert.equal(adminAuthorized({ authorization: `Bearer ${token}` }, token), true);
    assert.equal(adminAuthorized({ authorization: basic('ops', token) }, token), true);
    assert.equal(adminAuthorized({ authorization: `Bearer ${token}x` }, token), false);
    assert.equal(adminAuthorized({ authorization: basic(token, 'x') }, token), false);
    assert.equal(adminAuthorized({}, token), false);
  });

  it('reads the ops settings: default port, off, 0, host, and says what is wrong', () => {
    assert.deepEqual(readOpsConfig({}, 9464), { port: 9464, portExplicit: false, host: '127.0.0.1' });
    assert.deepEqual(readOpsConfig({}, undefined), { portExplicit: false, host: '127.0.0.1' });
    assert.equal(readOpsConfig({ LBCHECK_METRICS_PORT: 'off' }, 9464).port, undefined);
    assert.deepEqual(readOpsConfig({ LBCHECK_METRICS_PORT: '0', LBCHECK_METRICS_HOST: '0.0.0.0' }, undefined), {
      port: 0,
      portExplicit: true,
      host: '0.0.0.0',
    });
    assert.throws(
      () => readOpsConfig({ LBCHECK_METRICS_PORT: '70000', LBCHECK_ADMIN_TOKEN: 'short' }, 9464),
      /LBCHECK_METRICS_PORT="70000" must be a port number[\s\S]*LBCHECK_ADMIN_TOKEN \(value not shown\) must be at least 16 characters/,
    );
  });

  it('times out a probe that hangs, and caches only successes', async () => {
    assert.deepEqual(await runProbe(() => new Promise(() => undefined), 50), {
      ok: false,
      detail: 'no answer within 50 ms',
    });
    let calls = 0;
    let now = 0;
    const answers = [{ ok: false }, { ok: true }, { ok: false }];
    const probe = cachedWhenOk(
      () => Promise.resolve(answers[calls++] ?? { ok: false }),
      1000,
      () => now,
    );
    assert.equal((await probe()).ok, false);
    assert.equal((await probe()).ok, true); // the failure was not cached
    assert.equal((await probe()).ok, true); // the success is
    assert.equal(calls, 2);
    now = 2000;
    assert.equal((await probe()).ok, false);
  });
});
