// Command → queue → worker → reports → console, on real Redis and the lab.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { startHarness, testRedis, type Harness } from './harness.js';

let lab: Lab;
let h: Harness;

useLab({ heal: true }, async (started, own) => {
  lab = started;
  // Each check its own capture here, so that the tests counting tcpdumps on the LB see only the checks'; the
  // shared captures are tested by name below.
  h = own(await startHarness(lab, { LBCHECK_SHARED_CAPTURE: '0' }));
  h.startWorker();
});

/** A check's step-1 commands as its worker stored them (the console prints where). */
function commandsFile(harness: Harness, id: string): string {
  const path = new RegExp(`\\[${id}\\] +evidence step1-commands\\.txt [^→]*→ (\\S+)`).exec(harness.output())?.[1];
  return path ? readFileSync(path, 'utf8') : '';
}

const idOf = (ack: string): string => {
  const m = /Queued (chk-[0-9a-f]{10})/.exec(ack);
  assert.ok(m, `not an ack: ${ack}`);
  return m[1] ?? '';
};

async function checksWaiting(): Promise<number> {
  const connection = testRedis({ maxRetriesPerRequest: null });
  const q = new Queue('checks', { connection, prefix: h.config.prefix });
  const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  await q.close();
  connection.disconnect();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('console → BullMQ → worker → reports → console', () => {
  it('a healthy check: ack at once, then steps 1, 2, 3 and the diagnosis, each once, in order', async () => {
    const ack = await h.send('/lbcheck haproxy-http');
    const id = idOf(ack);
    await h.waitFor(new RegExp(`\\[${id}\\] No fault found`));
    const lines = h
      .output()
      .split('\n')
      .filter((l) => l.startsWith(`[${id}]`));
    const order = lines
      .filter((l) => /Step \d|Diagnosis|No fault found/.test(l))
      .map((l) => /Step (\d)/.exec(l)?.[1] ?? 'D');
    assert.deepEqual(order, ['1', '2', '3', 'D']);
    assert.ok(
      lines.some((l) => /evidence step1-lb\.pcap sha256:[0-9a-f]{12} \d+ B → \/.*step1-lb\.pcap$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^\[chk-[0-9a-f]{10}\] {3}ladder diagram: \/.*step1-ladder\.png$/.test(l)),
      lines.join('\n'),
    );
    const status = await h.send(`/lbcheck status ${id}`);
    assert.match(status, new RegExp(`${id} · haproxy-http · done · culprit none`));
    assert.match(status, /step 3 servers: PASS/);
  });

  it('a failing check: step 1 fails, the diagnosis names the path to the LB', async () => {
    await lab.faults.dropBeforeLb('dnat');
    const id = idOf(await h.send('/lbcheck dnat'));
    await h.waitFor(new RegExp(`\\[${id}\\] Diagnosis: PATH-TO-LB`));
    assert.equal(h.count(new RegExp(`\\[${id}\\] ✘ Step 1`)), 1);
    assert.equal(h.count(new RegExp(`\\[${id}\\] . Step [23]`)), 0);
    const history = await h.send('/lbcheck history dnat');
    assert.match(history, new RegExp(`${id} · dnat · done · culprit path-to-lb`));
  });

  it('malformed commands and unknown targets are refused with the problem and nothing is queued', async () => {
    const before = await checksWaiting();
    for (const [line, message] of [
      ['/lbcheck no-such-vip', /unknown target "no-such-vip"\. Known targets: haproxy-http, haproxy-tcp, nginx, dnat/],
      ['/lbcheck 198.18.0.1:99999', /out of range/],
      ['/lbcheck haproxy-http --members 1.2.3.4:80,$(id):1', /not an IP address or a hostname/],
      ['/lbcheck haproxy-http --frobnicate', /unexpected "--frobnicate"/],
      ['/lbcheck cancel 12', /not a check id/],
      ['/lbcheck status chk-0000000000', /no check chk-0000000000/],
    ] as const) {
      const reply = await h.send(line);
      assert.match(reply, message, line);
    }
    assert.equal(await checksWaiting(), before);
  });

  const lbTcpdumps = (): number => lab.processNames('lb').filter((n) => n === 'tcpdump').length;

  for (const shared of [false, true]) {
    it(`cancel during step 1 stops the check within a second and says so; ${
      shared ? 'the shared capture stops with its worker' : 'its own capture is killed'
    }`, async () => {
      await lab.faults.dropBeforeLb('nginx');
      const slow = await startHarness(lab, {
        LBCHECK_CONNECT_TIMEOUT_MS: '8000',
        LBCHECK_SHARED_CAPTURE: shared ? '1' : '0',
      });
      let closed = false;
      try {
        slow.startWorker();
        const id = idOf(await slow.send('/lbcheck nginx'));
        // Wait until the capture runs on the LB: the check is inside step 1.
        const deadline = Date.now() + 10_000;
        while (lbTcpdumps() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.ok(lbTcpdumps() > 0, 'the check never started its capture');
        assert.match(await slow.send(`/lbcheck cancel ${id}`), /Cancelling/);
        // Cancelled long before the 8 s connect timeout would have ended step 1 (the latency is in npm run bench).
        await slow.waitFor(new RegExp(`\\[${id}\\] – Check ${id} was cancelled by tester`), 6000);
        if (shared) {
          await slow.close(); // a shared capture outlives its checks, not its worker
          closed = true;
        }
        const gone = Date.now() + 3000;
        while (lbTcpdumps() > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
        assert.equal(lbTcpdumps(), 0);
        if (!shared) {
          assert.equal(slow.count(new RegExp(`\\[${id}\\] . Step`)), 0);
          assert.match(await slow.send(`/lbcheck status ${id}`), / · cancelled/);
        }
      } finally {
        if (!closed) await slow.close();
      }
    });
  }

  for (const shared of [false, true]) {
    const bound = shared ? 'at most 2 shared captures per worker' : 'at most 2 captures at a time';
    it(`20 checks at once against one LB: ${bound}, every step of every check posted exactly once`, async () => {
      const burst = await startHarness(lab, { LBCHECK_SHARED_CAPTURE: shared ? '1' : '0' });
      // Stopped in `finally` too: a watcher left polling after a failed wait keeps the file from ever exiting.
      let watching = true;
      try {
        burst.startWorker({ capturesPerLb: 2 });
        burst.startWorker({ capturesPerLb: 2, worker: 'second-worker' });
        let maxCaptures = 0;
        const watcher = (async () => {
          while (watching) {
            maxCaptures = Math.max(maxCaptures, lbTcpdumps());
            await new Promise((r) => setTimeout(r, 5));
          }
        })();
        const kinds = ['haproxy-http', 'haproxy-tcp', 'nginx', 'dnat'];
        const ids = await Promise.all(
          Array.from({ length: 20 }, (_, i) => burst.send(`/lbcheck ${kinds[i % 4]}`).then(idOf)),
        );
        for (const id of ids) await burst.waitFor(new RegExp(`\\[${id}\\] (Diagnosis: |No fault found)`), 60_000);
        watching = false;
        await watcher;
        // Shared: two workers, each with at most two (capturesPerLb) on this LB; own: two checks at a time.
        const most = shared ? 4 : 2;
        assert.ok(maxCaptures >= 1 && maxCaptures <= most, `saw ${maxCaptures} captures at once`);
        for (const id of ids) {
          for (const step of [1, 2, 3])
            assert.equal(burst.count(new RegExp(`\\[${id}\\] . Step ${step} `)), 1, `${id} step ${step}`);
          assert.equal(burst.count(new RegExp(`\\[${id}\\] No fault found`)), 1, id);
        }
        if (shared) {
          const leased = ids.filter((id) => /# capture shared/.test(commandsFile(burst, id)));
          assert.ok(leased.length > 0, 'no check of the burst leased a shared capture');
        }
      } finally {
        watching = false;
        await burst.close();
      }
    });
  }
});
