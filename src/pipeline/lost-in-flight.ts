// A check the in-flight sweep found lost (no progress for the stale time: its
// worker died with no other worker of its zone to take it over, or no worker
// of its zone runs at all) ends as a failed check does: an 'error' report
// tells its channel why, and, as any zone's end, lets its --from group
// complete and post the comparison.
import type { JobBus } from './job-bus.js';
import { LOST_IN_FLIGHT_ERROR, type LostCheckHandler } from './state.js';

/** Who queued the report, for the audit record and the log (no worker did). */
export const SWEEP_WORKER = 'in-flight-sweep';

export function reportLostChecks(bus: Pick<JobBus, 'addReport'>): LostCheckHandler {
  return (r) =>
    bus.addReport({
      kind: 'error',
      checkId: r.request.checkId,
      request: r.request,
      worker: SWEEP_WORKER,
      // As a worker's own failure report: posted after nothing, whatever steps the lost worker posted.
      seq: 1,
      message: r.error ?? LOST_IN_FLIGHT_ERROR,
    });
}
