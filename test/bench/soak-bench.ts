// Soak (issue 32): a bot and a worker in one process, as `lbcheck start` runs
// them, on real Redis and the lab: LBCHECK_SOAK_CHECKS checks (default 1,000)
// through the pipeline on the healthy HAProxy VIP, then a watch at its minimum
// interval (10 s) for LBCHECK_SOAK_WATCH_MINUTES (default 30). Prints memory,
// fds, timers, SSH sessions, Redis keys and BullMQ jobs after warm-up and at
// the end, each beside its target. `npm run bench -- soak`; not run by tests
// (test/pipeline/soak-lab.test.ts is its short, leak-sensitive part).
import { pngThreadStats, RENDERS_PER_THREAD } from '../../src/evidence/png-pool.js';
import type { Lab } from '../lab/lab.js';
import { startHarness, type Harness } from '../pipeline/harness.js';
import { snapshot, type Snapshot } from './soak-snapshot.js';
import { line } from './stats.js';

const CHECK_ID = /Queued (chk-[0-9a-f]{10})/;
const DONE = /\[chk-([0-9a-f]{10})\] (?:Diagnosis|No fault found)/g;
/** Checks in flight at once: a steady load, as a busy incident gives a worker. */
const CONCURRENCY = 4;
const WARM_UP_CHECKS = 10;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Follows the console output from where it was last read: the diagnoses seen so far (never rescans it all).
 * It keeps only the ids' 10 hex digits: V8 copies a substring that short, but a longer one (the whole id) is a
 * slice that holds the entire output text it came from, one copy per poll (a 1,000-check run held 4 GB so).
 */
function diagnosisWatcher(h: Harness): () => Set<string> {
  const done = new Set<string>();
  let read = 0;
  return () => {
    const text = h.output();
    // A diagnosis line cut at the end of the text is read again next time.
    const from = Math.max(0, read - 200);
    for (const m of text.slice(from).matchAll(DONE)) if (m[1]) done.add(m[1]);
    read = text.length;
    return done;
  };
}

/** Runs `count` checks, at most CONCURRENCY at once, each to its diagnosis. */
export async function runChecks(h: Harness, count: number, target = 'haproxy-http'): Promise<void> {
  const seen = diagnosisWatcher(h);
  const waiting = new Set<string>();
  let sent = 0;
  while (sent < count || waiting.size > 0) {
    while (sent < count && waiting.size < CONCURRENCY) {
      const ack = await h.send(`/lbcheck ${target}`);
      const id = CHECK_ID.exec(ack)?.[1]?.slice('chk-'.length);
      if (!id) throw new Error(`check ${sent + 1} was not queued: ${ack}`);
      waiting.add(id);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 20));
    for (const id of seen()) waiting.delete(id);
  }
}

const fmt = (s: Snapshot, key: keyof Omit<Snapshot, 'redisKeys'>): string => String(s[key]);

function memoryLines(warm: Snapshot, end: Snapshot, label: string): string[] {
  const growth = end.rssMb - warm.rssMb;
  return [
    line(`RSS after warm-up → ${label}`, `${warm.rssMb} → ${end.rssMb} MB`),
    line('  RSS growth after warm-up', `${growth.toFixed(1)} MB`, '≤ 100 MB', growth <= 100),
    line('  JS heap used', `${warm.heapUsedMb} → ${end.heapUsedMb} MB`),
    line('  external (Buffers, native)', `${warm.externalMb} → ${end.externalMb} MB`),
  ];
}

/** Idle = after warm-up, no check running: the worker holds its pooled SSH session and its render thread. */
function idleLines(idle: Snapshot, end: Snapshot): string[] {
  const same = (k: 'fds' | 'timers' | 'sshOpen' | 'lbSshd'): boolean => end[k] <= idle[k];
  return [
    line('open fds, idle → after', `${fmt(idle, 'fds')} → ${fmt(end, 'fds')}`, 'back to idle', same('fds')),
    line('timers, idle → after', `${fmt(idle, 'timers')} → ${fmt(end, 'timers')}`, 'back to idle', same('timers')),
    line('pooled SSH sessions open', `${idle.sshOpen} → ${end.sshOpen}`, 'back to idle', same('sshOpen')),
    line("LB's sshd processes", `${idle.lbSshd} → ${end.lbSshd}`, 'back to idle', same('lbSshd')),
  ];
}

function redisLines(warm: Snapshot, end: Snapshot, checks: number): string[] {
  const w = warm.redisKeys;
  const e = end.redisKeys;
  const jobs = (s: Snapshot): string =>
    Object.entries(s.redisKeys.jobs)
      .map(([q, n]) => `${q} ${n}`)
      .join(', ') || 'none';
  // BullMQ keeps finished jobs 24 h, at most 10,000 per queue (KEEP_DONE); everything else has its TTL.
  const jobsBounded = Object.values(e.jobs).every((n) => n <= 10_000);
  return [
    line('Redis keys, after warm-up → end', `${w.total} → ${e.total}`),
    line('  keys that expire (TTL)', `${w.withTtl} → ${e.withTtl}`, 'all but queues and jobs'),
    line('  BullMQ queue structures', `${w.queueStructures} → ${e.queueStructures}`, 'a few per queue'),
    line('  other keys without TTL', `${w.other} → ${e.other}`, 'not growing', e.other <= w.other),
    line('  BullMQ jobs kept, end', jobs(end), '≤ 10,000 per queue (24 h)', jobsBounded),
    ...(e.other > w.other + 2
      ? [
          `    keys without TTL beyond warm-up: ${e.otherKeys
            .filter((k) => !w.otherKeys.includes(k))
            .slice(0, 12)
            .join(' ')}`,
        ]
      : []),
    line('  per check run (all keys)', `${((e.total - w.total) / checks).toFixed(1)}`),
  ];
}

export async function benchSoak(lab: Lab): Promise<string[]> {
  const checks = envNumber('LBCHECK_SOAK_CHECKS', 1000);
  const watchMinutes = envNumber('LBCHECK_SOAK_WATCH_MINUTES', 30);
  const out = [
    `Soak (issue 32): ${checks} checks, then a 10 s watch for ${watchMinutes} min, bot + worker in one process`,
  ];
  const h = await startHarness(lab, {}, { watch: true });
  const prefix = h.config.prefix;
  try {
    h.startWorker();
    await runChecks(h, WARM_UP_CHECKS);
    const warm = await snapshot(lab, prefix);
    const t = performance.now();
    await runChecks(h, checks);
    const afterChecks = await snapshot(lab, prefix);
    out.push(line(`${checks} checks`, `${((performance.now() - t) / 1000).toFixed(0)} s`));
    out.push(...memoryLines(warm, afterChecks, `${checks} checks`));
    out.push(...redisLines(warm, afterChecks, checks));

    // A watch ends when no fault is found: one member down keeps it running, as in an incident.
    const server = lab.servers[0];
    if (!server) throw new Error('the lab has no servers');
    const undo = await lab.faults.serverDown(server.name);
    try {
      const ack = await h.send(`/lbcheck watch haproxy-http --every 10s --for ${Math.round(watchMinutes * 60)}s`);
      const watchId = /\b(wch-[0-9a-f]{10})\b/.exec(ack)?.[1];
      if (!watchId) throw new Error(`the watch did not start: ${ack}`);
      await new Promise((r) => setTimeout(r, watchMinutes * 60_000 + 15_000));
      // Ended by its --for already; a round still running is let finish before the last reading.
      await h.send(`/lbcheck cancel ${watchId}`);
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      await undo();
    }
    const end = await snapshot(lab, prefix);
    const rounds = (e: Snapshot): number =>
      (e.redisKeys.jobs['checks'] ?? 0) - (afterChecks.redisKeys.jobs['checks'] ?? 0);
    out.push(
      line(`watch rounds in ${watchMinutes} min`, String(rounds(end)), `~${Math.floor((watchMinutes * 60) / 10)}`),
    );
    out.push(...memoryLines(warm, end, 'end'));
    out.push(...idleLines(warm, end));
    out.push(...redisLines(warm, end, checks + rounds(end)));
    const png = pngThreadStats();
    const current = await png.current;
    out.push(line('PNG render threads replaced', `${png.retired.length}`, `one per ${RENDERS_PER_THREAD} renders`));
    out.push(line('  renders on the current thread', `${current?.renders ?? 0}`, `≤ ${RENDERS_PER_THREAD}`));
  } finally {
    await h.close();
  }
  return out;
}
