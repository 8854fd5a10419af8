// Posting a --from command's checks (issue 17 item 4): every zone's reports
// go under one parent, and when the last zone has ended the comparison is
// posted once. Two orderings make "once" hold whatever the platform's poster
// does: a later zone's reports wait until the first zone's first post (its
// "queued" announcement) has opened the thread, so one parent is created (the
// shared memo's claim guards Slack's parent too), and a zone's end waits for
// the ends of the zones before it, so only the last zone's end finds every
// zone ended and posts the comparison (postOnce covers that job's retries).
import { compareVantages, type Vantage } from '../../src/checklist/decide/compare-vantages.js';
import type { PostRecord } from '../../src/audit/audit-record.js';
import { comparisonText, noComparisonText } from '../../src/messages/vantage-text.js';
import { postOnce, type ChatPoster, type PostContext, type VantagePost } from '../../src/pipeline/poster.js';
import type { PipelineState } from '../../src/pipeline/state.js';
import type { ReportJob } from '../../src/model/jobs.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { Logger } from '../../src/log.js';

interface ComparisonDeps {
  log: Logger;
  audit?: AuditLog;
}

const OPENED = 'vantage.opened';
/** As the report poster's own claims: one held by a crashed process lapses after this and the post is retried. */
const CLAIM_TTL_S = 120;
const endKey = (zone: string): string => `vantage.ended.${zone}`;
/**
 * The reports after which a zone's check is over (a lost worker's check runs again, so 'lost' is not one). A
 * check the in-flight sweep found lost ends with an 'error' report too (src/pipeline/lost-in-flight.ts).
 */
const isEnd = (r: ReportJob): boolean => r.kind === 'final' || r.kind === 'error' || r.kind === 'cancelled';

export function vantageOf(r: ReportJob, state: PipelineState): VantagePost | undefined {
  const group = r.request.group;
  if (!group) return undefined;
  return {
    zone: r.request.zone,
    group,
    // Keyed by the group id: memo keys are per check, and the group is the "check" every zone shares.
    shared: {
      get: (k) => state.getMemo(group.id, k),
      set: (k, v) => state.setMemo(group.id, k, v),
      claim: (k) => state.claimOnce(`memo-claim:${group.id}:${k}`, CLAIM_TTL_S),
    },
  };
}

/** Why this report waits for another zone's, or undefined when it may be posted now. */
export async function vantageWait(r: ReportJob, v: VantagePost | undefined): Promise<string | undefined> {
  if (!v) return undefined;
  const index = v.group.zones.indexOf(v.zone);
  if (index > 0 && (await v.shared.get(OPENED)) === undefined) return `the thread ${v.group.zones[0]} opens`;
  if (!isEnd(r)) return undefined;
  for (const zone of v.group.zones.slice(0, Math.max(index, 0)))
    if ((await v.shared.get(endKey(zone))) === undefined) return `the end of ${zone}'s check`;
  return undefined;
}

/** A zone that ended without a report: how, and why (a failure's message, who cancelled). */
interface EndedWithout {
  ended: string;
  why?: string;
}

function endOf(r: ReportJob): string {
  if (r.kind === 'final') return JSON.stringify({ steps: r.report.steps, diagnosis: r.report.diagnosis });
  const end: EndedWithout =
    r.kind === 'error'
      ? { ended: 'failed', why: r.message }
      : r.kind === 'cancelled'
        ? { ended: `cancelled by ${r.by}` }
        : { ended: r.kind };
  return JSON.stringify(end);
}

/** Every zone's outcome once all have ended, else undefined. */
async function endsOf(v: VantagePost): Promise<{ reports: Vantage[]; without: string[] } | undefined> {
  const reports: Vantage[] = [];
  const without: string[] = [];
  for (const zone of v.group.zones) {
    const raw = await v.shared.get(endKey(zone));
    if (raw === undefined) return undefined;
    const end = JSON.parse(raw) as Vantage['report'] | EndedWithout;
    if ('ended' in end) without.push(`${zone} (${end.ended}${end.why ? `: ${end.why}` : ''})`);
    else reports.push({ zone, report: end });
  }
  return { reports, without };
}

function comparisonRecord(r: ReportJob, v: VantagePost, text: string, thread: string | undefined): PostRecord {
  const req = r.request;
  return {
    type: 'post',
    checkId: r.checkId,
    kind: 'comparison',
    group: v.group.id,
    summary: text,
    target: req.target,
    requester: `${req.requester.platform}:${req.requester.id}${req.requester.name ? ` (${req.requester.name})` : ''}`,
    platform: req.replyTo.platform,
    channel: req.replyTo.channel,
    ...(thread ? { thread } : {}),
    messageIds: [],
    fileIds: [],
    evidence: [],
    commands: [],
    worker: r.worker,
    zone: v.group.zones.join(','),
    requestedAt: req.requestedAt,
  };
}

/**
 * After a report of a --from check was posted: notes that the thread is open and, for a zone's end, that the
 * zone has ended; the end that completes the group posts the comparison (once, under the shared parent).
 */
export async function afterVantagePost(
  r: ReportJob,
  ctx: PostContext,
  poster: ChatPoster,
  deps: ComparisonDeps,
): Promise<void> {
  const v = ctx.vantage;
  if (!v) return;
  if (v.group.zones.indexOf(v.zone) === 0) await v.shared.set(OPENED, '1');
  if (!isEnd(r)) return;
  await v.shared.set(endKey(v.zone), endOf(r));
  const ends = await endsOf(v);
  if (!ends) return;
  // With no zone's report there is nothing to compare, but the group still ends: its parent says so and why.
  const text =
    ends.reports.length === 0
      ? noComparisonText(v.group.zones, ends.without)
      : comparisonText(compareVantages(ends.reports), ends.without);
  const shared: PostContext = { ...ctx, memo: v.shared };
  await postOnce(shared, 'vantage.comparison', async () => {
    const posted = await poster.postNotice(shared, 'comparison', text);
    await deps.audit?.append(comparisonRecord(r, v, text, posted ? posted.thread : undefined));
    deps.log.log('info', 'vantage comparison posted', { group: v.group.id, zones: v.group.zones.join(',') });
    return '1';
  });
}
