// The process's Prometheus metrics (prom-client), one registry per process.
// Instrumented code calls the small functions below, one line per site, so the
// metric names and labels live here and nowhere else.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Report, Step } from '../model/report.js';

export const registry = new Registry();

let processMetricsOn = false;
/** Node's default process metrics (CPU, memory, event loop lag, handles), once per process. */
export function enableProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: registry });
}

const checks = new Counter({
  name: 'lbcheck_checks_total',
  help: 'Checks that reached a diagnosis, by culprit, the platform that asked and the vantage zone',
  labelNames: ['culprit', 'platform', 'zone'] as const,
  registers: [registry],
});

const stepSeconds = new Histogram({
  name: 'lbcheck_step_seconds',
  help: 'Time each checklist step took on the worker, by step (reach, mode, servers) and verdict',
  labelNames: ['step', 'verdict'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 60],
  registers: [registry],
});

const checkSeconds = new Histogram({
  name: 'lbcheck_check_seconds',
  help: 'From the command (its requestedAt) to the diagnosis, queue wait included',
  buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
  registers: [registry],
});

const posts = new Counter({
  name: 'lbcheck_posts_total',
  help: 'Report posts to chat: posted, retried (an attempt failed or the platform asked to wait), failed (given up)',
  labelNames: ['platform', 'outcome'] as const,
  registers: [registry],
});

const commands = new Counter({
  name: 'lbcheck_commands_total',
  help: 'Chat commands: queued (a check), answered (help, status, history, cancel), refused, error (queue unavailable)',
  labelNames: ['platform', 'outcome'] as const,
  registers: [registry],
});

const jobsRefused = new Counter({
  name: 'lbcheck_jobs_refused_total',
  help:
    'Queued jobs refused before running (LBCHECK_JOB_KEY): unsealed or altered, other-id (sealed for another ' +
    "job id), stale (older than the queue's maximum wait), replayed (a seal already used), by queue kind",
  labelNames: ['queue', 'reason'] as const,
  registers: [registry],
});

const capturesActive = new Gauge({
  name: 'lbcheck_captures_active',
  help: "Checks of this worker holding one of the LB's capture slots (LBCHECK_CAPTURES_PER_LB)",
  labelNames: ['lb'] as const,
  registers: [registry],
});

const pngThreadsReplaced = new Counter({
  name: 'lbcheck_png_threads_replaced_total',
  help: 'Ladder PNG render threads replaced (freeing what the renderer kept), by reason: renders (its bound) or rss',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export type SessionState = 'opening' | 'open' | 'closed';
type SessionSource = () => { lb: string; state: SessionState }[];
const sessionSources = new Set<SessionSource>();

new Gauge({
  name: 'lbcheck_ssh_sessions',
  help: "This worker's pooled SSH connections to LBs, by state (opening, open, closed: dropped, reopened on next use)",
  labelNames: ['lb', 'state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const source of sessionSources) for (const s of source()) this.inc({ lb: s.lb, state: s.state });
  },
});

export function recordStep(step: Pick<Step, 'name' | 'verdict' | 'ms'>): void {
  stepSeconds.observe({ step: step.name, verdict: step.verdict }, step.ms / 1000);
}

export function recordDiagnosis(
  report: Pick<Report, 'diagnosis'>,
  platform: string,
  zone: string,
  requestedAt: string,
): void {
  checks.inc({ culprit: report.diagnosis.culprit, platform, zone });
  const since = Date.parse(requestedAt);
  if (Number.isFinite(since)) checkSeconds.observe(Math.max(0, Date.now() - since) / 1000);
}

export function recordPost(platform: string, outcome: 'posted' | 'retried' | 'failed'): void {
  posts.inc({ platform, outcome });
}

export function recordCommand(platform: string, outcome: 'queued' | 'answered' | 'refused' | 'error'): void {
  commands.inc({ platform, outcome });
}

export function recordRefusedJob(queue: string, reason: 'unsealed' | 'other-id' | 'stale' | 'replayed'): void {
  jobsRefused.inc({ queue, reason });
}

/** A capture slot taken on `lb`; call the result when it is given back. */
export function captureSlotTaken(lb: string): () => void {
  capturesActive.inc({ lb });
  let given = false;
  return () => {
    if (given) return;
    given = true;
    capturesActive.dec({ lb });
  };
}

/** Reports a session pool's connections at every scrape; call the result to stop (the pool closed). */
export function watchSessions(source: SessionSource): () => void {
  sessionSources.add(source);
  return () => sessionSources.delete(source);
}

/** A ladder PNG render thread was replaced by a warm successor (src/evidence/render-recycler.ts). */
export function recordPngThreadReplaced(reason: 'renders' | 'rss'): void {
  pngThreadsReplaced.inc({ reason });
}
