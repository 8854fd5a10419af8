// A worker killed mid-check (a real kill -9 of a `lbcheck worker` process) is
// noticed by another worker with the default settings, the thread is told at
// once, and the check runs again. The probed service is a loopback listener
// that accepts and never answers, so the check is mid-flight when killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import type { ChatPoster, NoticeKind, PostContext } from '../../src/pipeline/poster.js';
import { connectBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import { deleteKeys, TEST_REDIS_ENV, testPrefix } from './harness.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));

class RecordingConsole implements ChatPoster {
  readonly platform = 'console';
  readonly notices: { kind: NoticeKind; text: string }[] = [];
  postStep(): Promise<void> {
    return Promise.resolve();
  }
  postFinal(): Promise<void> {
    return Promise.resolve();
  }
  postNotice(_ctx: PostContext, kind: NoticeKind, text: string): Promise<void> {
    this.notices.push({ kind, text });
    return Promise.resolve();
  }
}

async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a lost worker', { timeout: 120_000 }, () => {
  it('defaults notice a dead worker within 15 s (lock 10 s, stalled check every 5 s)', () => {
    const c = readConfig({});
    assert.ok(c.lockDurationMs + c.stalledIntervalMs <= 15_000, `${c.lockDurationMs} + ${c.stalledIntervalMs}`);
  });

  it('kill -9 mid-check: the thread is told the worker was lost, and another worker runs the check again', async () => {
    const requests: Socket[] = [];
    const silent = createServer((s) => {
      s.on('data', (d: Buffer) => {
        if (d.toString().startsWith('GET ')) requests.push(s);
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    const prefix = testPrefix('lbw');
    const env = {
      ...TEST_REDIS_ENV,
      LBCHECK_PREFIX: prefix,
      LBCHECK_LOCAL_CAPTURE: '0',
      LBCHECK_SILENT_MS: '60000',
    };
    const config = readConfig(env);
    const log = createLogger('silent');
    const backend = await connectBackend(config, false, log);
    const poster = new RecordingConsole();
    const posting = startReportPoster(backend, [poster], log);
    const doomed = spawn(process.execPath, [cli, 'worker'], {
      env: { ...process.env, ...env, LBCHECK_CONFIG: '' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const doomedExit = new Promise<void>((r) => doomed.once('exit', () => r()));
    let survivor: ReturnType<typeof startCheckWorker> | undefined;
    let checkId = '';
    try {
      const ack = await handleCommand(
        {
          requester: { platform: 'console', id: 'tester' },
          replyTo: { platform: 'console', channel: 'console' },
          text: `127.0.0.1:${port} --all`,
        },
        { state: backend.intakeState, bus: backend.bus, inventory: () => undefined, log, prefix: '/lbcheck' },
      );
      assert.equal(ack.kind, 'queued', ack.text);
      checkId = ack.kind === 'queued' ? ack.checkId : '';
      await until(() => requests.length === 1, 'the doomed worker to reach step 2');
      // Only now a second worker: the check is the doomed one's.
      survivor = startCheckWorker(backend, config, () => undefined, log);
      doomed.kill('SIGKILL');
      await doomedExit;
      await until(() => poster.notices.some((n) => n.kind === 'lost'), 'the "worker lost" notice');
      const lost = poster.notices.find((n) => n.kind === 'lost');
      assert.match(lost?.text ?? '', new RegExp(`The worker running check ${checkId} \\(.+/\\d+/default\\) was lost`));
      assert.match(lost?.text ?? '', /being run again by another worker/);
      await until(() => requests.length === 2, 'the check to run again');
    } finally {
      if (doomed.exitCode === null) doomed.kill('SIGKILL');
      if (checkId) await backend.state.requestCancel(checkId, 'test cleanup');
      await survivor?.close();
      await posting.close();
      await backend.close();
      for (const s of requests) s.destroy();
      silent.close();
      await deleteKeys(prefix);
    }
  });
});
