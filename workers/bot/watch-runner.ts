// Runs the rounds of watches (bot side): each round is a delayed job that
// queues the watch's check through the intake, as the watch's owner (policy,
// rate limits, audit); when that check's report is done, the next round is
// scheduled, or the watch ends (no fault found, time up). State is in Redis,
// rounds in the queue, so a restarted bot picks up where the last one was.
import { handleCommand, type IntakeDeps } from '../../src/pipeline/intake.js';
import type { PostedRef } from '../../src/pipeline/poster.js';
import type { ReportJob } from '../../src/model/jobs.js';
import { endWatch, scaled, watchNotice } from '../../src/watch/watch-commands.js';
import { WatchStore, type WatchRecord, type WatchRound } from '../../src/watch/watch.js';

function checkText(w: WatchRecord): string {
  return [w.target, ...(w.all ? ['--all'] : []), ...(w.members.length ? ['--members', w.members.join(',')] : [])].join(
    ' ',
  );
}

async function scheduleNext(w: WatchRecord, deps: IntakeDeps): Promise<void> {
  const untilEnd = Date.parse(w.endsAt) - Date.now();
  // The last round is the one at the end: then the round sees the time is up and ends the watch.
  const delay = Math.max(0, Math.min(scaled(w.everyMs, deps), untilEnd));
  await deps.bus.addWatchRound({ watchId: w.id, round: w.round + 1 }, delay);
}

/**
 * Saves the watch unless it was cancelled or ended meanwhile (a cancel while a round was being queued): the
 * record is read again just before writing, so a round never brings a cancelled watch back to life.
 */
async function saveIfActive(store: WatchStore, next: WatchRecord): Promise<boolean> {
  const latest = await store.get(next.id);
  if (latest?.status !== 'active') return false;
  await store.put(next);
  return true;
}

export async function runWatchRound(round: WatchRound, deps: IntakeDeps): Promise<void> {
  const store = new WatchStore(deps.state);
  const w = await store.get(round.watchId);
  // Gone, over, or a round already run (a duplicate delivery): nothing to do.
  if (!w || w.status !== 'active' || round.round <= w.round) return;
  if (Date.now() >= Date.parse(w.endsAt)) return endWatch(w, 'its time is up', deps);
  const reply = await handleCommand(
    {
      requester: w.requester,
      replyTo: { ...w.replyTo, ...(w.thread ? { thread: w.thread } : {}) },
      text: checkText(w),
      via: `watch ${w.id}`,
      watch: { id: w.id, round: round.round },
      ...(w.lastCheckId ? { rerunOf: w.lastCheckId } : {}),
    },
    deps,
  );
  const next: WatchRecord = {
    ...w,
    round: round.round,
    ...(reply.kind === 'queued' ? { currentCheckId: reply.checkId } : {}),
  };
  if (!(await saveIfActive(store, next))) {
    if (reply.kind === 'queued') await deps.state.requestCancel(reply.checkId, 'the watch, which ended meanwhile');
    return;
  }
  if (reply.kind === 'queued') return;
  // Refused (a rate limit, a policy change): said once in the thread, and tried again next round.
  await watchNotice(next, `Watch ${w.id}: round ${round.round} was not run: ${reply.text}`, deps);
  await scheduleNext(next, deps);
}

/** Called for each report of a watch's check once it is done; the final, an error or a cancel moves the watch on. */
export async function afterWatchReport(r: ReportJob, posted: PostedRef, deps: IntakeDeps): Promise<void> {
  if (!r.request.watch || (r.kind !== 'final' && r.kind !== 'error' && r.kind !== 'cancelled')) return;
  const store = new WatchStore(deps.state);
  const w = await store.get(r.request.watch.id);
  if (!w || w.status !== 'active' || w.currentCheckId !== r.checkId) return;
  let next: WatchRecord = { ...w, ...(w.thread || !posted.thread ? {} : { thread: posted.thread }) };
  if (r.kind === 'final') {
    next = { ...next, lastCheckId: r.checkId, lastCulprit: r.report.diagnosis.culprit };
    if (r.report.diagnosis.culprit === 'none') {
      if (await saveIfActive(store, next)) await endWatch(next, 'no fault found', deps);
      return;
    }
  }
  if (await saveIfActive(store, next)) await scheduleNext(next, deps);
}
