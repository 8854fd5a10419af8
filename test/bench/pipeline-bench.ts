// Issue 4's figures: command→ack latency on real Redis, command→first step
// posted on the healthy lab VIP, and 50 concurrent checks on 2 worker
// processes (lost/duplicated reports, throughput, peak RSS per process).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startHarness } from '../pipeline/harness.js';
import type { Lab } from '../lab/lab.js';
import { line, median, peakRssMb, percentile } from './stats.js';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
const idOf = (ack: string): string => {
  const id = /Queued (chk-[0-9a-f]{10})/.exec(ack)?.[1];
  if (!id) throw new Error(`no check id in the ack: ${ack}`);
  return id;
};

function vmHwmMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? Number.NaN) / 1024);
}

export async function benchPipeline(lab: Lab): Promise<string[]> {
  const out = ['Pipeline (issue 4): console intake on real Redis, BullMQ workers on the lab'];

  // Ack latency: intake only (no worker), so the figure is the ack path itself.
  const intakeOnly = await startHarness(lab);
  const acks: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await intakeOnly.send('/lbcheck haproxy-http');
    acks.push(performance.now() - t);
  }
  await intakeOnly.close();
  const ackMedian = median(acks);
  out.push(line('command → ack, median of 200', `${ackMedian.toFixed(2)} ms`, '< 20 ms', ackMedian < 20));
  out.push(line('command → ack, p99', `${percentile(acks, 99).toFixed(2)} ms`));

  // First step posted, in-process worker with a warm SSH session.
  const h = await startHarness(lab);
  h.startWorker();
  await h.waitFor(new RegExp(`\\[${idOf(await h.send('/lbcheck haproxy-http'))}\\] (Diagnosis|No fault found)`)); // warm-up
  const firsts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const id = idOf(await h.send('/lbcheck haproxy-http'));
    await h.waitFor(new RegExp(`\\[${id}\\] . Step 1 `));
    firsts.push(performance.now() - t);
    await h.waitFor(new RegExp(`\\[${id}\\] (Diagnosis|No fault found)`));
  }
  // Cancel during step 1 (the VIP is dropped, the connect timeout is long).
  const undo = await lab.faults.dropBeforeLb('nginx');
  const slow = await startHarness(lab, { LBCHECK_CONNECT_TIMEOUT_MS: '8000' });
  slow.startWorker();
  const cancels: number[] = [];
  for (let i = 0; i < 5; i++) {
    const id = idOf(await slow.send('/lbcheck nginx'));
    await slow.waitFor(new RegExp(`${id}`), 1000);
    while (!lab.processNames('lb').includes('tcpdump')) await new Promise((r) => setTimeout(r, 10));
    const t = performance.now();
    await slow.send(`/lbcheck cancel ${id}`);
    await slow.waitFor(new RegExp(`\\[${id}\\] – Check ${id} was cancelled`), 10_000);
    cancels.push(performance.now() - t);
    while (lab.processNames('lb').includes('tcpdump')) await new Promise((r) => setTimeout(r, 10));
  }
  await slow.close();
  await undo();
  await h.close();
  const cancelMedian = median(cancels);
  out.push(
    line(
      'cancel during step 1 → cancelled notice, median of 5',
      `${Math.round(cancelMedian)} ms`,
      '< 1000 ms',
      cancelMedian < 1000,
    ),
  );
  const firstMedian = median(firsts);
  out.push(
    line('command → step 1 posted, median of 10', `${Math.round(firstMedian)} ms`, '< 500 ms', firstMedian < 500),
  );

  // 50 concurrent checks, 2 worker processes.
  const burst = await startHarness(lab);
  const workers: ChildProcess[] = [0, 1].map(() =>
    spawn(process.execPath, [cli, 'worker'], {
      env: {
        ...process.env,
        REDIS_URL: burst.config.redisUrl,
        LBCHECK_PREFIX: burst.config.prefix,
        LBCHECK_CONFIG: burst.config.inventoryFile ?? '',
        LBCHECK_CONNECT_TIMEOUT_MS: '1000',
        LBCHECK_SILENT_MS: '2500',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    }),
  );
  try {
    await new Promise((r) => setTimeout(r, 1500)); // let both workers connect
    const kinds = ['haproxy-http', 'haproxy-tcp', 'nginx', 'dnat'];
    const t = performance.now();
    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, i) => burst.send(`/lbcheck ${kinds[i % kinds.length]}`).then(idOf)),
    );
    for (const id of ids) await burst.waitFor(new RegExp(`\\[${id}\\] (Diagnosis|No fault found)`), 180_000);
    const seconds = (performance.now() - t) / 1000;
    let lost = 0;
    let duplicated = 0;
    for (const id of ids) {
      for (const p of [/. Step 1 /, /. Step 2 /, /. Step 3 /, /(?:Diagnosis|No fault found)/]) {
        const n = burst.count(new RegExp(`\\[${id}\\] ${p.source}`));
        if (n === 0) lost++;
        if (n > 1) duplicated += n - 1;
      }
    }
    out.push(line('50 concurrent checks on 2 worker processes', `${seconds.toFixed(1)} s`));
    out.push(line('  reports lost / duplicated', `${lost} / ${duplicated}`, '0 / 0', lost === 0 && duplicated === 0));
    out.push(line('  throughput', `${Math.round((50 / seconds) * 60)} checks/min`));
    out.push(line('  peak RSS worker 1 / worker 2', `${vmHwmMb(workers[0]?.pid)} / ${vmHwmMb(workers[1]?.pid)} MB`));
    out.push(line('  peak RSS bot side (this process)', `${peakRssMb()} MB`));
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await burst.close();
  }
  return out;
}
