// The bot side: the report poster, consuming the "reports" queue and posting
// through whichever platform adapters this process runs.
import type { AuditLog } from '../src/audit/audit-log.js';
import type { Logger } from '../src/log.js';
import type { Closeable } from '../src/pipeline/job-bus.js';
import type { ChatPoster } from '../src/pipeline/poster.js';
import type { Backend } from '../src/runtime/backend.js';
import { processReport } from '../workers/report-poster.js';

export function startReportPoster(
  backend: Backend,
  posters: readonly ChatPoster[],
  log: Logger,
  audit?: AuditLog,
): Closeable {
  const byPlatform = new Map(posters.map((p) => [p.platform, p] as const));
  return backend.bus.runReports([...byPlatform.keys()], (r) =>
    processReport(r, { state: backend.state, posters: byPlatform, log, ...(audit ? { audit } : {}) }),
  );
}
