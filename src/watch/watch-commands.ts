// The watch commands behind the intake: start one (after the intake's policy
// gate and rate limits), cancel one, and post a watch's own lines. Types are
// local (not the intake's) so the intake can import this without a cycle.
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import type { JobBus } from '../pipeline/job-bus.js';
import type { PipelineState } from '../pipeline/state.js';
import type { ReplyTo, Requester } from '../model/jobs.js';
import { formatDuration, newWatchId, WatchStore, type WatchRecord } from './watch.js';

export interface WatchDeps {
  state: PipelineState;
  bus: JobBus;
  log: Logger;
  prefix: string;
  /** TEST ONLY (see IntakeDeps.watchTimeScale). */
  watchTimeScale?: number;
}

interface Asker {
  requester: Requester;
  replyTo: ReplyTo;
  resultsWhere?: string;
  rerunOf?: string;
}

type Answer = { kind: 'info'; text: string } | { kind: 'refused'; text: string };

export const scaled = (ms: number, deps: { watchTimeScale?: number }): number =>
  Math.max(1, Math.round(ms * (deps.watchTimeScale ?? 1)));

export async function startWatch(
  cmd: { target: string; everyMs: number; forMs: number },
  asker: Asker,
  deps: WatchDeps,
): Promise<Answer> {
  const store = new WatchStore(deps.state);
  const alreadyWatched = (existing: WatchRecord): Answer => ({
    kind: 'refused',
    text:
      `${cmd.target} is already watched in this channel (${existing.id}, until ${existing.endsAt}): one watch per ` +
      `target per channel. Cancel it with: ${deps.prefix} cancel ${existing.id}`,
  });
  const existing = await store.activeIn(asker.replyTo, cmd.target);
  if (existing) return alreadyWatched(existing);
  const now = Date.now();
  const w: WatchRecord = {
    id: newWatchId(),
    target: cmd.target,
    members: [],
    all: false,
    requester: asker.requester,
    replyTo: asker.replyTo,
    everyMs: cmd.everyMs,
    startedAt: new Date(now).toISOString(),
    endsAt: new Date(now + scaled(cmd.forMs, deps)).toISOString(),
    status: 'active',
    round: 0,
    ...(asker.rerunOf ? { lastCheckId: asker.rerunOf } : {}),
    ...(asker.replyTo.thread ? { thread: asker.replyTo.thread } : {}),
  };
  // Held a little past the watch's end: a round still running then must not let a second watch start.
  const slotSeconds = Math.ceil((scaled(cmd.forMs, deps) + cmd.everyMs) / 1000) + 300;
  if (!(await store.takeSlot(w, slotSeconds))) {
    const holder = await store.activeIn(asker.replyTo, cmd.target);
    return holder
      ? alreadyWatched(holder)
      : {
          kind: 'refused',
          text:
            `a watch of ${cmd.target} in this channel is being started or stopped right now; ` +
            'send the command again in a moment',
        };
  }
  await store.put(w);
  await deps.bus.addWatchRound({ watchId: w.id, round: 1 }, 0);
  deps.log.log('info', 'watch started', { watchId: w.id, target: w.target, everyMs: w.everyMs, endsAt: w.endsAt });
  return {
    kind: 'info',
    text:
      `Watching ${w.target} as ${w.id}: a check every ${formatDuration(cmd.everyMs)} for up to ` +
      `${formatDuration(cmd.forMs)}, ${asker.resultsWhere ?? 'here'}. The first check is posted in full, later ` +
      `ones only when the diagnosis changes; the watch ends when no fault is found. Cancel with: ${deps.prefix} ` +
      `cancel ${w.id}`,
  };
}

/**
 * Posts one of the watch's own lines where the watch was started: its channel, in its thread. Never in the
 * channel of the check it names: a Watch button may name another channel's check, and its answers belong to
 * the clicker's channel. Without a thread of its own there, the line is only logged: posting under another
 * channel's check would reuse that check's thread.
 */
export async function watchNotice(w: WatchRecord, text: string, deps: WatchDeps): Promise<void> {
  const checkId = w.currentCheckId ?? w.lastCheckId;
  const record = checkId ? await deps.state.getCheck(checkId) : undefined;
  const own = record ? sameChannel(record.request.replyTo, w.replyTo) : false;
  const thread = w.thread ?? (own ? record?.request.replyTo.thread : undefined);
  if (!checkId || !record || (!own && !thread)) {
    deps.log.log('info', 'watch line with no check to post under', { watchId: w.id, text });
    return;
  }
  const request = { ...record.request, replyTo: { ...w.replyTo, ...(thread ? { thread } : {}) } };
  // One job per line: the same line queued again (a retried round) is posted once.
  const n = createHash('sha256').update(`${w.id}\n${text}`).digest('hex').slice(0, 12);
  await deps.bus.addReport({ kind: 'watch', text, n, checkId, request, worker: 'watch', seq: 0 });
}

function sameChannel(a: ReplyTo, b: ReplyTo): boolean {
  return a.platform === b.platform && a.channel === b.channel;
}

export async function endWatch(w: WatchRecord, why: string, deps: WatchDeps): Promise<void> {
  const store = new WatchStore(deps.state);
  const ended: WatchRecord = { ...w, status: 'ended', endedWhy: why };
  await store.put(ended);
  await store.releaseSlot(ended);
  deps.log.log('info', 'watch ended', { watchId: w.id, why });
  await watchNotice(
    ended,
    `Watch ${w.id} of ${w.target} ended: ${why}.${w.lastCulprit ? ` Last diagnosis: ${w.lastCulprit}.` : ''}`,
    deps,
  );
}

export async function cancelWatch(id: string, asker: Asker, deps: WatchDeps, admin: boolean): Promise<Answer> {
  const store = new WatchStore(deps.state);
  const w = await store.get(id);
  const own = w?.requester.platform === asker.requester.platform && w.requester.id === asker.requester.id;
  // Someone else's watch answers like one that does not exist, unless an admin asks.
  if (!w || (!own && !admin)) return { kind: 'refused', text: `no watch ${id} of yours` };
  if (w.status !== 'active') return { kind: 'refused', text: `${id} has already ${w.status}; nothing to cancel` };
  const by = asker.requester.name ?? asker.requester.id;
  const cancelled: WatchRecord = { ...w, status: 'cancelled', endedWhy: `cancelled by ${by}` };
  await store.put(cancelled);
  await store.releaseSlot(cancelled);
  // The round in flight stops too; its own posts are silent after the first round.
  const current = w.currentCheckId ? await deps.state.getCheck(w.currentCheckId) : undefined;
  if (current && (current.status === 'queued' || current.status === 'running')) {
    await deps.state.requestCancel(current.request.checkId, by);
    if ((await deps.bus.removeQueuedCheck(current.request)) !== 'active')
      await deps.state.updateCheck(current.request.checkId, { status: 'cancelled' });
  }
  await watchNotice(cancelled, `Watch ${id} of ${w.target} was cancelled by ${by}.`, deps);
  return { kind: 'info', text: `Cancelled watch ${id} of ${w.target}.` };
}
