// The bot side: the report poster, consuming the "reports" queue and posting
// through whichever platform adapters this process runs, and the watch rounds.
import type { AuditLog } from '../src/audit/audit-log.js';
import { errorFields, type Logger } from '../src/log.js';
import type { IntakeDeps } from '../src/pipeline/intake.js';
import type { Closeable } from '../src/pipeline/job-bus.js';
import type { ChatPoster } from '../src/pipeline/poster.js';
import type { Backend } from '../src/pipeline/backend.js';
import { processReport } from '../workers/bot/report-poster.js';
import { afterWatchReport, runWatchRound } from '../workers/bot/watch-runner.js';

/**
 * How often the bot side sweeps the in-flight checks: a lost one (no progress for an hour) is reported and ends
 * its --from group even when nobody asks for status or checks its target again (which sweep too).
 */
export const SWEEP_EVERY_MS = 5 * 60_000;

/** Sweeps every sweepEveryMs until closed; a failed sweep (Redis away) is logged and tried again next time. */
function startInFlightSweep(backend: Pick<Backend, 'state'>, log: Logger, sweepEveryMs: number): Closeable {
  const timer = setInterval(() => {
    backend.state
      .inFlight()
      .catch((err: unknown) => log.log('warn', 'in-flight sweep failed; trying again later', errorFields(err)));
  }, sweepEveryMs);
  timer.unref();
  return { close: () => Promise.resolve(clearInterval(timer)) };
}

/**
 * watch: the intake the watch rounds queue their checks through; without it this process runs no watches.
 * sweepEveryMs: TEST ONLY, how often in-flight checks are swept (SWEEP_EVERY_MS).
 * pageLink: the signed link to a check's evidence page, when this process serves them (adapters/evidence-http.ts).
 */
export function startReportPoster(
  backend: Backend,
  posters: readonly ChatPoster[],
  log: Logger,
  audit?: AuditLog,
  watch?: IntakeDeps,
  sweepEveryMs = SWEEP_EVERY_MS,
  pageLink?: (checkId: string) => string,
): Closeable {
  const byPlatform = new Map(posters.map((p) => [p.platform, p] as const));
  const reports = backend.bus.runReports([...byPlatform.keys()], (r) =>
    processReport(r, {
      state: backend.state,
      posters: byPlatform,
      log,
      ...(audit ? { audit } : {}),
      ...(pageLink ? { pageLink } : {}),
      ...(watch ? { afterWatchReport: (job, posted) => afterWatchReport(job, posted, watch) } : {}),
    }),
  );
  const rounds = watch ? backend.bus.runWatchRounds((round) => runWatchRound(round, watch)) : undefined;
  const sweep = startInFlightSweep(backend, log, sweepEveryMs);
  return {
    close: async () => {
      await sweep.close();
      await rounds?.close();
      await reports.close();
    },
  };
}
