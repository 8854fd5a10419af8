// Delivery guarantees beyond the happy path: a platform that fails (the
// poster retries with backoff and still posts each step once, in order), and
// vantage zones (a check goes to its zone's workers only).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { ConsoleAdapter } from '../../adapters/console/console-adapter.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import type { ChatPoster } from '../../src/pipeline/poster.js';
import { connectBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { startHarness, writeLabInventory } from './harness.js';

let lab: Lab;
useLab({ serverCount: 2 }, (started) => {
  lab = started;
});

const idOf = (ack: string): string => /Queued (chk-[0-9a-f]{10})/.exec(ack)?.[1] ?? assert.fail(ack);

/** A "platform" whose API fails the first two attempts of every post. */
function flaky(inner: ChatPoster, attempts: string[]): ChatPoster {
  const failures = new Map<string, number>();
  const gate = (key: string): void => {
    attempts.push(key);
    const n = failures.get(key) ?? 0;
    if (n < 2) {
      failures.set(key, n + 1);
      throw new Error(`platform API answered 500 for ${key} (attempt ${n + 1})`);
    }
  };
  return {
    platform: inner.platform,
    postStep: (ctx, step, ev) => {
      gate(`${ctx.request.checkId}/step${step.step}`);
      return inner.postStep(ctx, step, ev);
    },
    postFinal: (ctx, report) => {
      gate(`${ctx.request.checkId}/final`);
      return inner.postFinal(ctx, report);
    },
    postNotice: (ctx, kind, text) => inner.postNotice(ctx, kind, text),
  };
}

describe('a failing platform API', () => {
  it('every step is retried until posted, exactly once and in step order', async () => {
    const attempts: string[] = [];
    const h = await startHarness(lab, {}, { poster: (c) => flaky(c, attempts) });
    try {
      h.startWorker();
      const id = idOf(await h.send('/lbcheck haproxy-http'));
      await h.waitFor(new RegExp(`\\[${id}\\] (Diagnosis|No fault found)`), 30_000);
      const order = h
        .output()
        .split('\n')
        .filter((l) => l.startsWith(`[${id}]`) && /Step \d|Diagnosis|No fault found/.test(l))
        .map((l) => /Step (\d)/.exec(l)?.[1] ?? 'D');
      assert.deepEqual(order, ['1', '2', '3', 'D']);
      for (const key of ['step1', 'step2', 'step3', 'final'])
        assert.equal(attempts.filter((a) => a === `${id}/${key}`).length, 3, key);
    } finally {
      await h.close();
    }
  });
});

describe('vantage zones', () => {
  it('a target in zone dc1 waits for a dc1 worker; the default worker never takes it', async () => {
    const v = lab.vips.nginx;
    const members = `[${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`;
    const h = await startHarness(
      lab,
      {},
      {
        extraVips: [
          '  web-dc1:',
          `    address: ${v.address}`,
          `    port: ${v.port}`,
          '    lb: lab-lb',
          '    zone: dc1',
          `    members: ${members}`,
        ],
      },
    );
    try {
      h.startWorker();
      const id = idOf(await h.send('/lbcheck web-dc1'));
      assert.equal((await h.backend.state.getCheck(id))?.request.zone, 'dc1');
      const later = idOf(await h.send('/lbcheck dnat'));
      await h.waitFor(new RegExp(`\\[${later}\\] (Diagnosis|No fault found)`));
      // The default worker finished a later check of the default zone; the dc1 check was not touched.
      assert.equal((await h.backend.state.getCheck(id))?.status, 'queued');
      h.startWorker({ worker: 'dc1-worker' }, 'dc1');
      await h.waitFor(new RegExp(`\\[${id}\\] No fault found`));
      assert.equal((await h.backend.state.getCheck(id))?.worker, 'dc1-worker');
    } finally {
      await h.close();
    }
  });
});

describe('embedded mode (no Redis)', () => {
  it('the same processors on the in-process queue run a check from the console to its diagnosis', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbcheck-embedded-'));
    const config = {
      ...readConfig({ LBCHECK_EVIDENCE_DIR: join(dir, 'evidence'), LBCHECK_CONNECT_TIMEOUT_MS: '1000' }),
      redisUrl: 'redis://127.0.0.1:1',
    };
    const backend = await connectBackend(config, true);
    assert.equal(backend.mode, 'embedded');
    const inventory = loadInventory(writeLabInventory(lab, dir));
    const log = createLogger('silent');
    let text = '';
    const output = new PassThrough().on('data', (d: Buffer) => (text += d.toString()));
    const consoleAdapter = new ConsoleAdapter({
      input: new PassThrough(),
      output,
      evidenceDir: config.evidenceDir,
      user: 'tester',
      intake: (i) =>
        handleCommand(i, {
          state: backend.intakeState,
          bus: backend.bus,
          inventory: () => inventory,
          log,
          prefix: '/lbcheck',
        }),
    });
    const poster = startReportPoster(backend, [consoleAdapter], log);
    const worker = startCheckWorker(backend, config, () => inventory, log);
    try {
      const id = idOf((await consoleAdapter.handleLine('/lbcheck haproxy-tcp')).text);
      const deadline = Date.now() + 15_000;
      while (!text.includes(`[${id}] No fault found`) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      assert.ok(text.includes(`[${id}] No fault found`), text);
      for (const s of [1, 2, 3]) assert.equal(text.split(`[${id}] ✔ Step ${s} `).length - 1, 1);
    } finally {
      await worker.close();
      await poster.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
