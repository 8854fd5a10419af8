// The bot side: the report poster, consuming the "reports" queue and posting
// through whichever platform adapters this process runs, and the watch rounds.
import type { AuditLog } from '../src/audit/audit-log.js';
import type { Logger } from '../src/log.js';
import type { IntakeDeps } from '../src/pipeline/intake.js';
import type { Closeable } from '../src/pipeline/job-bus.js';
import type { ChatPoster } from '../src/pipeline/poster.js';
import type { Backend } from '../src/runtime/backend.js';
import { processReport } from '../workers/report-poster.js';
import { afterWatchReport, runWatchRound } from '../workers/watch-runner.js';

/** watch: the intake the watch rounds queue their checks through; without it this process runs no watches. */
export function startReportPoster(
  backend: Backend,
  posters: readonly ChatPoster[],
  log: Logger,
  audit?: AuditLog,
  watch?: IntakeDeps,
): Closeable {
  const byPlatform = new Map(posters.map((p) => [p.platform, p] as const));
  const reports = backend.bus.runReports([...byPlatform.keys()], (r) =>
    processReport(r, {
      state: backend.state,
      posters: byPlatform,
      log,
      ...(audit ? { audit } : {}),
      ...(watch ? { afterWatchReport: (job, posted) => afterWatchReport(job, posted, watch) } : {}),
    }),
  );
  const rounds = watch ? backend.bus.runWatchRounds((round) => runWatchRound(round, watch)) : undefined;
  return {
    close: async () => {
      await rounds?.close();
      await reports.close();
    },
  };
}
