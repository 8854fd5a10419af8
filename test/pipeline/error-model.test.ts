// The error table end to end: what users are told, what the CLI exits with,
// what the worker retries. Loopback only: the LB's sshd and the VIP are ports
// on 127.0.0.1 that nothing listens on.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exitCodeFor } from '../../src/cli/cli-errors.js';
import {
  CliUsageError,
  ConfigError,
  describeFailure,
  ERROR_RULES,
  InputError,
  LbcheckError,
} from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import type { Inventory } from '../../src/inventory/inventory-types.js';
import type { Logger } from '../../src/log.js';
import { guardBackend } from '../../src/pipeline/backend-guard.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import type { ReportJob } from '../../src/model/jobs.js';
import { SessionPool } from '../../src/remote/session-pool.js';
import { SshUnreachableError } from '../../src/remote/ssh-errors.js';
import { Redis } from 'ioredis';
import { processCheck, reportGaveUp, type CheckWorkerDeps } from '../../workers/probe/check-processor.js';
import { request, sleep } from './contract-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function memoryLog(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const make = (base: Record<string, unknown>): Logger => ({
    log: (level, msg, fields = {}) => void lines.push({ level, msg, ...base, ...fields }),
    child: (fields) => make({ ...base, ...fields }),
  });
  return Object.assign(make({}), { lines });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the error table', () => {
  it('gives every kind an exit code and a retry decision; only what may succeed later is retried', () => {
    assert.deepEqual(
      Object.entries(ERROR_RULES).map(([k, r]) => [k, r.retry]),
      [
        ['input', false],
        ['config', false],
        ['access', false],
        ['unreachable', true],
        ['internal', true],
      ],
    );
    assert.equal(exitCodeFor(new InputError('bad')), 2);
    // A command line used wrongly is an input error wherever it is classified, with its message unchanged.
    const usage = describeFailure(new CliUsageError('unknown flag --x', 'usage: lbcheck run <target>'));
    assert.deepEqual([usage.kind, usage.exitCode, usage.retry, usage.text], ['input', 2, false, 'unknown flag --x']);
    assert.equal(exitCodeFor(new ConfigError('bad')), 3);
    assert.equal(exitCodeFor(new SshUnreachableError('lb', 'ECONNREFUSED')), 3);
    assert.equal(exitCodeFor(new TypeError('x is undefined')), 70);
    assert.equal(exitCodeFor(Object.assign(new Error('ENOENT'), { syscall: 'open', code: 'ENOENT' })), 3);
    assert.equal(new SshUnreachableError('lb', 'x').permanent, false);
    assert.equal(new ConfigError('x').permanent, true);
  });

  it("never shows a bug's own words to users: a reference into the log instead", () => {
    const f = describeFailure(new TypeError("Cannot read properties of undefined (reading 'lb')"), 'abcd1234');
    assert.equal(f.kind, 'internal');
    assert.equal(f.ref, 'abcd1234');
    assert.match(f.text, /internal error \(log reference abcd1234\)/);
    assert.doesNotMatch(f.text, /Cannot read/);
    const known = describeFailure(new ConfigError('no LB "edge"', 'add it to the inventory'));
    assert.equal(known.text, 'no LB "edge". Add it to the inventory');
  });

  it('keeps what it wraps as the cause', () => {
    const root = new Error('ECONNREFUSED');
    const e = new LbcheckError('unreachable', 'cannot reach', undefined, { cause: root });
    assert.equal(e.cause, root);
  });

  it("turns a store's Redis failure into 'cannot reach its Redis', keeping the client's words as the cause only", async () => {
    const port = await closedPort();
    const redis = new Redis(`redis://127.0.0.1:${port}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    const state = guardBackend(new RedisState(redis, 'p'), `redis://127.0.0.1:${port}`);
    await assert.rejects(state.getCheck('x'), (err: unknown) => {
      assert.ok(err instanceof LbcheckError, String(err));
      assert.equal(err.kind, 'unreachable');
      assert.match(err.message, /cannot reach its Redis \(redis:\/\/127\.0\.0\.1:\d+\), so nothing was queued/);
      assert.ok(err.cause instanceof Error);
      assert.doesNotMatch(err.message, /Stream|writeable|enableOfflineQueue/);
      return true;
    });
    redis.disconnect();
  });
});

describe('the worker applies the table', () => {
  async function inventoryWithDeadLb(): Promise<Inventory> {
    const key = join(dir, 'id_rsa');
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(key, privateKey, { mode: 0o600 });
    const [ssh, vip] = [await closedPort(), await closedPort()];
    return parseInventory(
      `
loadBalancers:
  edge: { ssh: "ssh://root@127.0.0.1:${ssh}", identity: ${key}, hostKey: "SHA256:${'a'.repeat(43)}" }
vips:
  web: { address: 127.0.0.1, port: ${vip}, lb: edge, members: ["127.0.0.1:${vip}"] }
`,
      'dead-lb.yaml',
    );
  }

  async function runOnMemoryQueue(
    inventory: () => Inventory | undefined,
  ): Promise<{ reports: ReportJob[]; attempts: number[]; log: ReturnType<typeof memoryLog> }> {
    const bus = new MemoryBus();
    const state = new MemoryState();
    const log = memoryLog();
    const deps: CheckWorkerDeps = {
      state,
      bus,
      inventory,
      sessions: new SessionPool(),
      log,
      worker: 'test',
      capturesPerLb: 1,
      connectTimeoutMs: 2000,
      silentMs: 100,
      evidenceMaxBytes: 1024,
      evidenceTtlSeconds: 60,
      localCapture: false,
    };
    const reports: ReportJob[] = [];
    const attempts: number[] = [];
    bus.runReports(['console'], (r) => Promise.resolve(void reports.push(r)).then(() => 'done' as const));
    bus.runChecks(
      'default',
      1,
      (req, ctx) => {
        attempts.push(ctx.attempt);
        return processCheck(req, deps, ctx);
      },
      (req, err) => reportGaveUp(req, err, deps),
    );
    const r = request('web');
    await state.createCheck(r);
    await bus.addCheck(r);
    for (let i = 0; i < 200 && !reports.some((x) => x.kind === 'error'); i++) await sleep(50);
    await sleep(1500); // anything more (a second error, a third attempt) would arrive within the backoff
    await bus.close();
    assert.equal((await state.getCheck(r.checkId))?.status, 'failed');
    return { reports, attempts, log };
  }

  it('retries an unreachable LB once, then tells the channel once, saying how often it tried', async () => {
    const inventory = await inventoryWithDeadLb();
    const { reports, attempts } = await runOnMemoryQueue(() => inventory);
    assert.deepEqual(attempts, [1, 2]);
    const errors = reports.filter((r) => r.kind === 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.kind === 'error' ? errors[0].message : '', /cannot reach SSH on .*\(tried 2 times\)/);
  });

  it('does not retry a configuration error', async () => {
    const inventory = parseInventory(
      `
loadBalancers:
  edge: { ssh: "ssh://root@127.0.0.1:1", identity: ${join(dir, 'missing-key')}, hostKey: "SHA256:${'a'.repeat(43)}" }
vips:
  web: { address: 127.0.0.1, port: 1, lb: edge }
`,
      'missing-key.yaml',
    );
    const { reports, attempts } = await runOnMemoryQueue(() => inventory);
    assert.deepEqual(attempts, [1]);
    assert.equal(reports.filter((r) => r.kind === 'error').length, 1);
  });

  it('reports a bug as an internal error with a log reference, and logs the bug under it', async () => {
    const { reports, attempts, log } = await runOnMemoryQueue(() => {
      throw new TypeError('inventory holder exploded');
    });
    assert.deepEqual(attempts, [1, 2]);
    const errors = reports.filter((r) => r.kind === 'error');
    assert.equal(errors.length, 1);
    const text = errors[0]?.kind === 'error' ? errors[0].message : '';
    const ref = /log reference ([0-9a-f]{8})/.exec(text)?.[1];
    assert.ok(ref, text);
    assert.doesNotMatch(text, /exploded/);
    const logged = log.lines.find((l) => l.ref === ref);
    assert.equal(logged?.error, 'inventory holder exploded');
  });
});
