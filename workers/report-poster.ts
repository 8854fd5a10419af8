// The "reports" queue processor (bot side): posts each report through the
// platform's adapter, in step order and exactly once. Order: a report waits
// until every lower seq of its check is posted. Exactly once: a per-report
// marker is checked before and set after posting; a platform error throws, and
// the queue retries with backoff.
import type { Logger } from '../src/log.js';
import { errorFields } from '../src/log.js';
import type { ChatPoster, EvidenceFile } from '../src/pipeline/poster.js';
import type { PipelineState } from '../src/pipeline/state.js';
import { reportJobId, type ReportJob } from '../src/pipeline/types.js';

export interface ReportPosterDeps {
  state: PipelineState;
  posters: ReadonlyMap<string, ChatPoster>;
  log: Logger;
  /** After this long, a report stops waiting for an earlier one that never came. */
  maxOrderWaitMs?: number;
}

const firstSeen = new Map<string, number>();

export async function processReport(r: ReportJob, deps: ReportPosterDeps): Promise<'done' | 'later'> {
  const id = reportJobId(r);
  const log = deps.log.child({ checkId: r.checkId, report: id });
  if (await deps.state.wasPosted(id)) return 'done';
  const cursor = await deps.state.lastPosted(r.checkId);
  if (cursor < r.seq - 1) {
    const since = firstSeen.get(id) ?? Date.now();
    firstSeen.set(id, since);
    if (Date.now() - since < (deps.maxOrderWaitMs ?? 60_000)) return 'later';
    log.log('warn', 'posting out of order: an earlier report never arrived', { seq: r.seq, cursor });
  }
  firstSeen.delete(id);
  const poster = deps.posters.get(r.request.replyTo.platform);
  if (!poster) {
    log.log('error', 'no adapter for the platform of this check; report dropped', { platform: r.request.replyTo.platform });
    await deps.state.markPosted(r.checkId, id, r.seq);
    return 'done';
  }
  const ctx = { request: r.request, record: await deps.state.getCheck(r.checkId) };
  try {
    switch (r.kind) {
      case 'step': {
        const files: EvidenceFile[] = await Promise.all(
          r.evidence.map(async (meta) => {
            const data = await deps.state.getEvidence(meta.sha256);
            return data ? { ...meta, data } : meta;
          }),
        );
        await poster.postStep(ctx, r.step, files);
        break;
      }
      case 'final':
        await poster.postFinal(ctx, r.report);
        break;
      case 'cancelled':
        await poster.postNotice(ctx, 'cancelled', `Check ${r.checkId} was cancelled by ${r.by}. Its capture on the LB was stopped.`);
        break;
      case 'error':
        await poster.postNotice(ctx, 'error', `Check ${r.checkId} could not run: ${r.message}`);
        break;
    }
  } catch (err) {
    log.log('warn', 'posting failed; will retry', errorFields(err));
    throw err;
  }
  await deps.state.markPosted(r.checkId, id, r.seq);
  log.log('info', 'report posted', { kind: r.kind, seq: r.seq, platform: poster.platform });
  return 'done';
}
