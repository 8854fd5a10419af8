// Issue 28's one-shot figure: `lbcheck run` on an LB whose login shell is fast (no vendor profile: the lab LB's
// root shell as it is), as a whole process, beside the seed's shell procedure with one multiplexed OpenSSH
// (shell-procedure.ts), alternating so both see the same machine load. Then where lbcheck's time goes: the
// timers that ran to their end during the same check done in-process the way `lbcheck run` does it (fixed waits
// and grace periods that expired, by the line that set them), the SSH handshake, when each step is handed on, and what is left for
// the process itself (node's start, loading the engine, exit).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubsForOneCheck } from '../../src/capture/capture-hubs.js';
import { captureBoundSeconds, runCheck } from '../../src/checklist/observe/run-check.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { preconnect } from '../../src/remote/preconnect.js';
import { checkOptions, labTarget } from '../checklist/lab-target.js';
import type { Lab } from '../lab/lab.js';
import { runArgsFor, timeCli } from './cli-bench.js';
import { shellProcedure, startKeptMaster, stopKeptMaster, timeShell } from './shell-procedure.js';
import { line, median } from './stats.js';

const RUNS = 9;
const IN_PROCESS_RUNS = 5;

interface FiredTimer {
  site: string;
  ms: number;
}

/** Where a timer was set: lbcheck's first two frames (a generic wait, then what waited), or ssh2's. */
function callSite(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(2);
  const sites = frames
    .filter((f) => /\/(src|adapters|workers)\//.test(f) || /node_modules\/ssh2/.test(f))
    .map((f) => /(?:dist\/src\/|dist\/|node_modules\/)([^):]+:\d+)/.exec(f)?.[1] ?? '?');
  return sites.length > 0 ? sites.slice(0, 2).join(' < ') : 'elsewhere';
}

/**
 * Records every setTimeout that ran to its end (a wait that was paid, not one cut short by what it waited for)
 * while fn runs, with its delay and where it was set. Timers of 0 ms (deferrals) are left out.
 */
async function firedTimers<T>(fn: () => Promise<T>): Promise<{ result: T; fired: FiredTimer[] }> {
  const fired: FiredTimer[] = [];
  const original = globalThis.setTimeout;
  const patched = ((cb: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    const delay = ms ?? 0;
    const site = delay >= 1 ? callSite() : '';
    return original(
      (...a: unknown[]) => {
        if (site) fired.push({ site, ms: delay });
        cb(...a);
      },
      delay,
      ...rest,
    );
  }) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(patched, original);
  try {
    return { result: await fn(), fired };
  } finally {
    globalThis.setTimeout = original;
  }
}

interface InProcess {
  handshakeMs: number;
  /** When each step was handed on (as the CLI prints it), from the start of runCheck. */
  steps: number[];
  closeMs: number;
  checkMs: number;
  totalMs: number;
  fired: FiredTimer[];
}

/** The check as `lbcheck run` does it (src/cli/run-command.ts): a new SSH connection, leased captures, close. */
async function checkInProcess(lab: Lab): Promise<InProcess> {
  const target = { ...labTarget(lab, 'nginx'), members: labTarget(lab, 'nginx').members.slice(0, 2) };
  const lb = target.lb;
  if (!lb) throw new Error('the lab target has no LB');
  const t0 = performance.now();
  const { result, fired } = await firedTimers(async () => {
    const session = await SshSession.open({ ...lb, preconnected: preconnect(lb.host, lb.port) });
    await session.warmed();
    const handshakeMs = performance.now() - t0;
    const options = { ...checkOptions({ connectTimeoutMs: 3000, silentMs: 5000 }), ladderPng: false };
    const hubs = hubsForOneCheck(captureBoundSeconds(options));
    const started = performance.now();
    const steps: number[] = [];
    const { report } = await runCheck(target, options, {
      session: () => Promise.resolve(session),
      captureHubs: hubs,
      onStep: () => void steps.push(performance.now() - started),
    });
    if (report.diagnosis.culprit !== 'none') throw new Error(`healthy VIP diagnosed: ${report.diagnosis.summary}`);
    const c = performance.now();
    await hubs.closeHere();
    void hubs.closeAll();
    session.close();
    return { handshakeMs, steps, closeMs: performance.now() - c, checkMs: c - started };
  });
  return { ...result, totalMs: performance.now() - t0, fired };
}

/** Fired timers summed per site over the runs, as ms per check, largest first. */
function timerLines(runs: InProcess[]): string[] {
  const per = new Map<string, { ms: number; count: number; each: Set<number> }>();
  for (const r of runs)
    for (const f of r.fired) {
      const e = per.get(f.site) ?? { ms: 0, count: 0, each: new Set<number>() };
      e.ms += f.ms;
      e.count += 1;
      e.each.add(f.ms);
      per.set(f.site, e);
    }
  const sorted = [...per.entries()].sort((a, b) => b[1].ms - a[1].ms);
  if (sorted.length === 0) return ['    none: every wait ended early, on what it waited for'];
  return sorted.map(
    ([site, e]) =>
      `    ${site.padEnd(44)} ${(e.ms / runs.length).toFixed(1).padStart(7)} ms/check  ` +
      `(${(e.count / runs.length).toFixed(1)} timer(s) of ${[...e.each].sort((a, b) => a - b).join('/')} ms)`,
  );
}

/** Sockets of kept processes under a runtime directory. */
const keptSockets = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.sock'))
    : [];

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(what);
}

/**
 * `lbcheck run --persist` answered by its kept process (the first run starts it and checks on its own; the second
 * opens its session and capture), against the script as the one-shot run is (issue 28's comparison: a master
 * connection per run), and, for comparison, the script with its OpenSSH master kept up between runs (ControlPersist's
 * effect): then both keep their connection.
 */
async function persistedFigures(lab: Lab, args: string[], members: string[], shellMedianS: number): Promise<string[]> {
  const runtime = mkdtempSync(join(tmpdir(), 'lbcheck-bench-persist-'));
  const env = { XDG_RUNTIME_DIR: runtime };
  const v = lab.vips.nginx;
  const master = startKeptMaster(lab);
  try {
    const persisted = [...args, '--persist', '60'];
    await timeCli(persisted, /No fault found/, false, env);
    await until(() => keptSockets(runtime).length === 1, 'the kept process never listened');
    await timeCli(persisted, /No fault found/, false, env);
    const kept: number[] = [];
    const keptShell: number[] = [];
    const script = shellProcedure(lab, v.address, v.port, members, master);
    for (let i = 0; i < RUNS; i++) {
      kept.push(await timeCli(persisted, /No fault found/, false, env));
      keptShell.push(await timeShell(script));
    }
    // The last run shortens the kept process's idle time: it ends a second later, closing what it held.
    await timeCli([...args, '--persist', '1'], /No fault found/, false, env);
    await until(() => keptSockets(runtime).length === 0, 'the kept process did not end');
    const k = median(kept) / 1000;
    const ks = median(keptShell) / 1000;
    return [
      line(
        `lbcheck run --persist, answered by the kept process (median of ${RUNS})`,
        `${k.toFixed(3)} s`,
        '≤ 0.35 s',
        k <= 0.35,
      ),
      `    (all: ${kept.map((x) => (x / 1000).toFixed(3)).join(' ')})`,
      line(
        'by hand (the script above) / lbcheck run --persist',
        `${(shellMedianS / k).toFixed(1)}x`,
        '≥ 3x',
        shellMedianS / k >= 3,
      ),
      line('for comparison, by hand with its OpenSSH master kept too (ControlPersist)', `${ks.toFixed(3)} s`),
      line('  that / lbcheck run --persist', `${(ks / k).toFixed(1)}x`),
    ];
  } finally {
    stopKeptMaster(lab, master);
    rmSync(runtime, { recursive: true, force: true });
  }
}

export async function benchCliFast(lab: Lab): Promise<string[]> {
  const [one, five] = loadavg();
  const out = [
    `CLI on a fast login shell (issue 28): whole processes, no start-up file on the lab LB's root shell; ` +
      `load average ${one?.toFixed(2)} ${five?.toFixed(2)} on ${availableParallelism()} CPUs`,
  ];
  const { args, members } = runArgsFor(lab);
  const v = lab.vips.nginx;
  const script = shellProcedure(lab, v.address, v.port, members);
  const runs: number[] = [];
  const shell: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await timeCli(args, /No fault found/));
    shell.push(await timeShell(script));
  }
  const help: number[] = [];
  for (let i = 0; i < 5; i++) help.push(await timeCli(['--help'], /lbcheck run <target>/));
  const r = median(runs) / 1000;
  const sh = median(shell) / 1000;
  out.push(line(`lbcheck run, healthy nginx VIP (median of ${RUNS})`, `${r.toFixed(3)} s`, '≤ 0.35 s', r <= 0.35));
  out.push(`    (all: ${runs.map((x) => (x / 1000).toFixed(3)).join(' ')})`);
  out.push(line(`by hand: ssh -M, tcpdump, /dev/tcp, curl (median)`, `${sh.toFixed(3)} s`));
  out.push(line('by hand / lbcheck run', `${(sh / r).toFixed(1)}x`, '≥ 3x', sh / r >= 3));
  out.push(...(await persistedFigures(lab, args, members, sh)));

  const inProcess: InProcess[] = [];
  await checkInProcess(lab); // loads the engine and warms caches, as the CLI's process has them loaded
  for (let i = 0; i < IN_PROCESS_RUNS; i++) inProcess.push(await checkInProcess(lab));
  const m = (f: (x: InProcess) => number): number => median(inProcess.map(f));
  const stepCount = Math.max(...inProcess.map((x) => x.steps.length));
  out.push(`  where the time goes (the same check in-process, median of ${IN_PROCESS_RUNS}):`);
  out.push('   waits that ran to their end (fixed waits, expired grace periods), by where they were set:');
  out.push(...timerLines(inProcess));
  out.push(line('   node start + lbcheck --help (median of 5)', `${median(help).toFixed(0)} ms`));
  out.push(line('   TCP + SSH handshake + warm channels open', `${m((x) => x.handshakeMs).toFixed(0)} ms`));
  for (let n = 0; n < stepCount; n++)
    out.push(line(`   step ${n + 1} handed on, since the check began`, `${m((x) => x.steps[n] ?? 0).toFixed(0)} ms`));
  out.push(line('   check (runCheck) done', `${m((x) => x.checkMs).toFixed(0)} ms`));
  out.push(line('   closing (captures here, SSH)', `${m((x) => x.closeMs).toFixed(0)} ms`));
  const inside = m((x) => x.totalMs);
  out.push(line('   in-process total', `${inside.toFixed(0)} ms`));
  out.push(
    line('   rest: loading the engine, evidence, exit', `${(median(runs) - inside - median(help)).toFixed(0)} ms`),
  );
  return out;
}
