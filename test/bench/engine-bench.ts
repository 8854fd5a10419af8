// Issue 3's figures: time to step 1's verdict and to the whole check on the
// lab's healthy HAProxy http VIP (2 members, warm SSH session as a worker
// keeps it), the dropped-VIP check against its connect timeout, and the same
// procedure done by hand with ssh + tcpdump + bash, for comparison.
import { runCheck } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import type { Lab } from '../lab/lab.js';
import { shellProcedure, timeShell } from './shell-procedure.js';
import { line, median, peakRssMb } from './stats.js';

const RUNS = 10;

interface Timed {
  step1: number;
  step2: number;
  step3: number;
  total: number;
}

async function timedCheck(
  lab: Lab,
  session: SshSession | undefined,
  kind: 'haproxy-http' | 'dnat',
  connectTimeoutMs = 1000,
): Promise<Timed & { culprit: string }> {
  const target = {
    ...labTarget(lab, kind),
    members: lab.servers.slice(0, 2).map((s) => ({ host: s.address, port: s.port })),
  };
  const start = performance.now();
  const at: Record<number, number> = {};
  const { report } = await runCheck(target, checkOptions({ connectTimeoutMs }), {
    ...(session ? { session: () => Promise.resolve(session) } : {}),
    onStep: (s) => {
      at[s.step] = performance.now() - start;
    },
  });
  const total = performance.now() - start;
  return {
    step1: at[1] ?? Number.NaN,
    step2: at[2] ?? Number.NaN,
    step3: at[3] ?? Number.NaN,
    total,
    culprit: report.diagnosis.culprit,
  };
}

export async function benchEngine(lab: Lab): Promise<string[]> {
  const access = labTarget(lab, 'haproxy-http').lb;
  if (!access) throw new Error('lab target without LB access');
  const out: string[] = ['Engine (issue 3): healthy HAProxy http VIP, 2 members, warm SSH session'];
  const session = await SshSession.open(access);
  await timedCheck(lab, session, 'haproxy-http'); // warm-up
  const warm: Timed[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await timedCheck(lab, session, 'haproxy-http'));
  const m = (k: keyof Timed): number => Math.round(median(warm.map((w) => w[k])));
  out.push(line('step 1 verdict after start (median of 10)', `${m('step1')} ms`, '< 400 ms', m('step1') < 400));
  out.push(line('step 2 verdict after start (median)', `${m('step2')} ms`));
  out.push(line('step 3 verdict after start (median)', `${m('step3')} ms`));
  out.push(line('whole check (median of 10)', `${m('total')} ms`, '< 1000 ms', m('total') < 1000));
  out.push(
    line(
      '  per step: 1 / 2 / 3 (median)',
      `${m('step1')} / ${m('step2') - m('step1')} / ${m('step3') - m('step2')} ms`,
    ),
  );

  const cold: number[] = [];
  for (let i = 0; i < 3; i++) cold.push((await timedCheck(lab, undefined, 'haproxy-http')).total);
  out.push(line('whole check with a new SSH connection (median of 3)', `${Math.round(median(cold))} ms`));

  const undo = await lab.faults.dropBeforeLb('haproxy-http');
  const connectTimeoutMs = 1000;
  const dropped: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await timedCheck(lab, session, 'haproxy-http', connectTimeoutMs);
    if (r.culprit !== 'path-to-lb') throw new Error(`dropped VIP diagnosed as ${r.culprit}`);
    dropped.push(r.total);
  }
  await undo();
  const d = Math.round(median(dropped));
  out.push(
    line(
      `dropped VIP, connect timeout ${connectTimeoutMs} ms (median of 3)`,
      `${d} ms`,
      `< ${connectTimeoutMs + 300} ms`,
      d < connectTimeoutMs + 300,
    ),
  );
  session.close();

  const v = lab.vips['haproxy-http'];
  const members = lab.servers.slice(0, 2).map((s) => `${s.address}:${s.port}`);
  const shell: number[] = [];
  for (let i = 0; i < 5; i++) shell.push(await timeShell(shellProcedure(lab, v.address, v.port, members)));
  const sh = Math.round(median(shell));
  out.push(line('same procedure by hand: ssh+tcpdump+bash+curl (median of 5)', `${sh} ms`));
  out.push(line('ratio by-hand / lbcheck (warm)', `${(sh / m('total')).toFixed(1)}x`));
  out.push(line('ratio by-hand / lbcheck (new SSH connection)', `${(sh / median(cold)).toFixed(1)}x`));
  out.push(line('peak RSS of this process', `${peakRssMb()} MB`));
  return out;
}
