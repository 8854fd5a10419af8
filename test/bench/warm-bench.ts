// Issue 16's warm-check figure: command to diagnosis in-process on a warm
// (pooled) SSH session, healthy HAProxy http VIP, and where the time goes.
// The check engine is not changed here; its parts are timed on their own on
// the same warm session, and what is left of each step is run-check's own
// waiting (its fixed grace periods), printed as such. Ladder PNGs render on a
// thread while the next step runs; only the last one's render is waited for,
// after the captures are stopped.
import { LocalCapture } from '../../src/capture/local-capture.js';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture } from '../../src/capture/remote-capture.js';
import type { Report } from '../../src/model/report.js';
import { runCheck } from '../../src/checklist/run-check.js';
import { renderPngOffThread } from '../../src/evidence/png-pool.js';
import { httpExchange, httpRequest } from '../../src/probe/http-exchange.js';
import { tcpConnect } from '../../src/probe/tcp-connect.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import type { Lab } from '../lab/lab.js';
import { line, median } from './stats.js';

const RUNS = 10;

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await work();
  return [performance.now() - t, r];
}

export async function benchWarm(lab: Lab): Promise<string[]> {
  const target = { ...labTarget(lab, 'haproxy-http'), members: labTarget(lab, 'haproxy-http').members.slice(0, 2) };
  if (!target.lb) throw new Error('lab target without LB access');
  const session = await SshSession.open(target.lb);
  const out = ['Warm check (issue 16): in-process, pooled SSH session, healthy HAProxy http VIP, 2 members'];
  try {
    const checks: { total: number; report: Report; svg?: string }[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const [total, { report, evidence }] = await timed(() =>
        runCheck(target, checkOptions(), { session: () => Promise.resolve(session) }),
      );
      if (report.diagnosis.culprit !== 'none') throw new Error(`healthy VIP diagnosed as ${report.diagnosis.culprit}`);
      const svg = evidence.find((e) => e.name === 'step2-ladder.svg')?.data.toString('utf8');
      if (i > 0) checks.push({ total, report, ...(svg ? { svg } : {}) }); // the first run warms caches
    }
    const total = median(checks.map((c) => c.total));
    out.push(line(`command → diagnosis (median of ${RUNS})`, `${Math.round(total)} ms`, '≤ 60 ms', total <= 60));
    // The same check without the ladder PNGs: what rendering the pictures chat shows adds to each check.
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const [ms] = await timed(() =>
        runCheck(target, { ...checkOptions(), ladderPng: false }, { session: () => Promise.resolve(session) }),
      );
      plain.push(ms);
    }
    const stepMs = (n: number): number =>
      median(checks.map((c) => c.report.steps.find((s) => s.step === n)?.ms ?? Number.NaN));

    const parts = {
      exec: [] as number[],
      start: [] as number[],
      stop: [] as number[],
      conn: [] as number[],
      get: [] as number[],
      localStop: [] as number[],
    };
    for (let i = 0; i < RUNS; i++) {
      parts.exec.push((await timed(() => session.run(['true'])))[0]);
      const [start, capture] = await timed(() =>
        RemoteCapture.start(session, { ...DEFAULT_CAPTURE_LIMITS, filter: `host ${target.vip} and tcp port 9` }),
      );
      parts.start.push(start);
      const [conn, c] = await timed(() => tcpConnect(target.vip, target.port, 1000));
      parts.conn.push(conn);
      const socket = c.socket;
      if (socket) parts.get.push((await timed(() => httpExchange(socket, httpRequest(target.vip), 2000)))[0]);
      socket?.destroy();
      parts.stop.push((await timed(() => capture.stop()))[0]);
      const local = await LocalCapture.start(`host ${target.vip} and tcp port 9`, 5);
      if (local instanceof LocalCapture) parts.localStop.push((await timed(() => local.stop()))[0]);
    }
    const m = (xs: number[]): number => Math.round(median(xs));
    const s1 = Math.round(stepMs(1));
    const s2 = Math.round(stepMs(2));
    out.push('  where the time goes (medians; parts timed on their own on the same warm session):');
    out.push(line('  SSH exec channel round trip (`true`)', `${m(parts.exec)} ms`));
    out.push(line('  tcpdump start → "listening" (before step 1)', `${m(parts.start)} ms`));
    out.push(line('  step 1 (reach)', `${s1} ms`));
    out.push(line('    of which TCP connect to the VIP', `${m(parts.conn)} ms`));
    out.push(line('    rest: waiting for the LB capture', `${Math.max(0, s1 - m(parts.conn))} ms`));
    out.push(line('  step 2 (mode)', `${s2} ms`));
    out.push(line('    of which GET / exchange', `${m(parts.get)} ms`));
    out.push(line('    of which capture stop', `${m(parts.stop)} ms`));
    out.push(
      line('    rest: run-check grace waits (150 + ≤300 ms)', `${Math.max(0, s2 - m(parts.get) - m(parts.stop))} ms`),
    );
    out.push(line('  step 3 (servers: 2 members, LB + direct)', `${Math.round(stepMs(3))} ms`));
    const pictures = total - median(plain);
    const renders: number[] = [];
    for (const c of checks) if (c.svg) renders.push((await timed(() => renderPngOffThread(c.svg ?? '')))[0]);
    out.push(line('  ladder PNG render on its thread, one step-2 image', `${m(renders)} ms`));
    out.push(
      line(
        '  ladder PNGs still waited for (without them, difference: the last render, past the stops)',
        `${Math.round(pictures)} ms`,
      ),
    );
    const known = pictures + m(parts.start) + s1 + s2 + stepMs(3) + m(parts.localStop);
    out.push(
      line("  vantage tcpdump stop (run-check's finally; the last PNG renders meanwhile)", `${m(parts.localStop)} ms`),
    );
    out.push(
      line('  rest: decide, decodes, pcap encoding, between steps', `${Math.max(0, Math.round(total - known))} ms`),
    );
  } finally {
    session.close();
  }
  return out;
}
