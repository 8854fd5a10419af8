// Signals and fatal errors end processes properly: Ctrl-C in the console
// (`lbcheck start`, the default `npm start`) cancels the check in flight, says
// so, and exits 130 once the worker confirmed; `worker` and `serve` exit
// non-zero after a fatal startup error even while an inventory is watched.
// The probed service is a loopback listener that accepts and never answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisState } from '../../src/pipeline/redis-state.js';
import { deleteKeys, TEST_REDIS } from './harness.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-shutdown-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(test: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await test())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Ctrl-C in the console', { timeout: 90_000 }, () => {
  it('cancels the check in flight, names it, and exits 130 once it is cancelled', async () => {
    const sockets: Socket[] = [];
    let gotRequest = false;
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('data', (d: Buffer) => (gotRequest ||= d.toString().startsWith('GET ')));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const prefix = `lbc-${randomBytes(4).toString('hex')}`;
    const redis = new Redis(TEST_REDIS);
    const state = new RedisState(redis, prefix);
    const child = spawn(process.execPath, [cli, 'start'], {
      env: {
        ...process.env,
        REDIS_URL: TEST_REDIS,
        LBCHECK_PREFIX: prefix,
        LBCHECK_CONFIG: '',
        SLACK_BOT_TOKEN: '',
        MicrosoftAppId: '',
        TEAMS_PORT: '',
        TEAMS_LOCAL: '',
        LBCHECK_LOCAL_CAPTURE: '0',
        LBCHECK_SILENT_MS: '60000',
        LBCHECK_LOG: join(dir, 'console.log'),
        LBCHECK_AUDIT_DIR: join(dir, 'audit'),
        LBCHECK_EVIDENCE_DIR: join(dir, 'evidence'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.resume();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until(() => out.includes('Type /lbcheck help'), 'the console prompt');
      child.stdin.write(`/lbcheck 127.0.0.1:${port} --all\n`);
      await until(() => /Queued chk-[0-9a-f]{10}/.test(out), 'the ack');
      const id = /Queued (chk-[0-9a-f]{10})/.exec(out)?.[1] ?? '';
      // Step 2 sent its GET to a service that never answers: the check is mid-flight.
      await until(() => gotRequest, 'the check to reach the service');
      child.kill('SIGINT');
      assert.equal(await exited, 130);
      assert.match(out, new RegExp(`SIGINT: cancelling ${id}; waiting for the workers to stop them`));
      assert.match(out, new RegExp(`\\[${id}\\].*cancelled by`, 'i'));
      // Cancelled, not left "running" for stalled-job recovery to pick up half a minute later.
      assert.equal((await state.getCheck(id))?.status, 'cancelled');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      silent.close();
      redis.disconnect();
      await deleteKeys(prefix);
    }
  });
});

describe('fatal startup errors', { timeout: 60_000 }, () => {
  for (const command of ['worker', 'serve']) {
    it(`${command} with a watched inventory and an unreachable Redis exits non-zero, naming the problem`, async () => {
      const inventory = join(dir, `${command}.yaml`);
      writeFileSync(inventory, 'vips: {}\n');
      const child = spawn(process.execPath, [cli, command], {
        env: {
          ...process.env,
          REDIS_URL: 'redis://127.0.0.1:1',
          LBCHECK_CONFIG: inventory,
          LBCHECK_LOG: 'stderr',
          SLACK_BOT_TOKEN: '',
          MicrosoftAppId: '',
          TEAMS_PORT: '',
          TEAMS_LOCAL: '',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      assert.notEqual(code, 0);
      assert.match(err, /Redis at redis:\/\/127\.0\.0\.1:1 does not answer/);
    });
  }
});
