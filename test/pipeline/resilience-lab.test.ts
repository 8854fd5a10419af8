// The pipeline survives what happens at 3 a.m.: a worker killed outright
// mid-check, and Redis going away and coming back while the bot runs.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { startHarness, type Harness } from './harness.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let lab: Lab;

useLab({}, (started) => {
  lab = started;
});

const idOf = (ack: string): string => /Queued (chk-[0-9a-f]{10})/.exec(ack)?.[1] ?? assert.fail(`not an ack: ${ack}`);

function workerProcess(h: Harness): ChildProcess {
  const child = spawn(process.execPath, [cli, 'worker'], {
    env: {
      ...process.env,
      REDIS_URL: h.config.redisUrl,
      LBCHECK_PREFIX: h.config.prefix,
      LBCHECK_CONFIG: h.config.inventoryFile ?? '',
      LBCHECK_CONNECT_TIMEOUT_MS: '1000',
      LBCHECK_SILENT_MS: '4000',
      LBCHECK_LOCK_MS: '2000',
      LBCHECK_STALLED_CHECK_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

async function until(test: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('worker killed mid-check', () => {
  it('kill -9 during step 2: no tcpdump survives, another worker completes the check, no step is posted twice', async () => {
    // Every server drops the LB: nginx holds GET / silent for seconds, so step 2 is slow.
    for (const s of lab.servers) await lab.faults.serverBlocksLb(s.name, 'drop');
    const h = await startHarness(lab, { LBCHECK_SILENT_MS: '4000' });
    const workers: ChildProcess[] = [];
    try {
      const a = workerProcess(h);
      workers.push(a);
      const id = idOf(await h.send('/lbcheck nginx'));
      await h.waitFor(new RegExp(`\\[${id}\\] . Step 1 `), 20_000);
      a.kill('SIGKILL');
      await new Promise((r) => a.once('exit', r));
      // The dead worker's SSH connection closes; the LB's shell ends tcpdump at once.
      await until(() => !lab.processNames('lb').includes('tcpdump'), 5000, 'the orphaned capture to stop');
      const b = workerProcess(h);
      workers.push(b);
      await h.waitFor(new RegExp(`\\[${id}\\] (Diagnosis: |No fault found)`), 40_000);
      for (const step of [1, 2, 3])
        assert.equal(h.count(new RegExp(`\\[${id}\\] . Step ${step} `)), 1, `step ${step}\n${h.output()}`);
      assert.equal(h.count(new RegExp(`\\[${id}\\] (Diagnosis: |No fault found)`)), 1);
      assert.match(h.output(), new RegExp(`\\[${id}\\] Diagnosis: LB-TO-SERVERS`));
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await h.close();
      await lab.faults.clear();
    }
  });
});

describe('Redis goes away and comes back', () => {
  it('commands get "queue unavailable" while Redis is down, and checks work again once it is back', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const startRedis = (): ChildProcess =>
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
    let redis = startRedis();
    let redisUp = true;
    const url = `redis://127.0.0.1:${port}`;
    let h: Harness | undefined;
    try {
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          h = await startHarness(lab, { REDIS_URL: url });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      h.startWorker();
      const first = idOf(await h.send('/lbcheck dnat'));
      await h.waitFor(new RegExp(`\\[${first}\\] No fault found`));

      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      redisUp = false;
      const refused = await h.send('/lbcheck dnat');
      assert.match(refused, /cannot reach its Redis \(redis:\/\/127\.0\.0\.1:\d+\), so nothing was queued/);
      // The client's own words stay in the log.
      assert.doesNotMatch(refused, /Stream isn't writeable|enableOfflineQueue|Connection is closed/);

      redis = startRedis();
      redisUp = true;
      let ack = '';
      const back = Date.now() + 15_000;
      while (!/Queued/.test(ack)) {
        if (Date.now() > back) assert.fail(`the bot did not recover after Redis returned; last answer: ${ack}`);
        await new Promise((r) => setTimeout(r, 200));
        ack = await h.send('/lbcheck dnat');
      }
      const second = idOf(ack);
      await h.waitFor(new RegExp(`\\[${second}\\] No fault found`), 30_000);
    } finally {
      // Closing BullMQ waits for Redis: bring it back first if the test failed while it was down.
      if (!redisUp) redis = startRedis();
      await h?.close().catch(() => undefined);
      redis.kill('SIGKILL');
    }
  });
});
