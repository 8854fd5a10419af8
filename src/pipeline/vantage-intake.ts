// Queues a `--from` command (issue 17 item 4): one check per zone, all linked
// by one group id and queued together, so each zone's worker starts as soon
// as the last one is queued. All or nothing: a check that could not be queued
// takes the ones already queued with it, as a single check's record does.
import { randomBytes } from 'node:crypto';
import type { ChatCommand } from '../commands/grammar.js';
import { newCheckId } from '../model/check-id.js';
import { errorFields, type Logger } from '../log.js';
import type { JobBus } from './job-bus.js';
import type { PipelineState } from './state.js';
import type { CheckRequest, ReplyTo, Requester, VantageGroup } from '../model/jobs.js';

interface VantageDeps {
  state: PipelineState;
  bus: JobBus;
  log: Logger;
}

type CheckCommand = Extract<ChatCommand, { kind: 'check' }>;

/** One request per zone, sharing the group and the moment they were asked for. */
export function vantageRequests(
  cmd: Pick<CheckCommand, 'target' | 'all' | 'members'>,
  zones: string[],
  who: { requester: Requester; replyTo: ReplyTo },
): CheckRequest[] {
  const group: VantageGroup = { id: `grp-${randomBytes(5).toString('hex')}`, zones };
  const requestedAt = new Date().toISOString();
  return zones.map((zone) => ({
    checkId: newCheckId(),
    target: cmd.target,
    members: cmd.members,
    all: cmd.all,
    requester: who.requester,
    replyTo: who.replyTo,
    zone,
    requestedAt,
    group,
  }));
}

async function undo(done: CheckRequest[], deps: VantageDeps): Promise<void> {
  for (const r of done) {
    await deps.bus.removeQueuedCheck(r).catch(() => 'gone');
    await deps.state.discardCheck(r).catch((err: unknown) =>
      deps.log.log('error', 'could not undo the record of a check that was not queued', {
        checkId: r.checkId,
        ...errorFields(err),
      }),
    );
  }
}

/** Records and queues every zone's check; on any failure none stays queued or recorded. */
export async function queueVantages(
  cmd: Pick<CheckCommand, 'target' | 'all' | 'members'>,
  zones: string[],
  who: { requester: Requester; replyTo: ReplyTo },
  deps: VantageDeps,
): Promise<CheckRequest[]> {
  const requests = vantageRequests(cmd, zones, who);
  const done: CheckRequest[] = [];
  try {
    for (const r of requests) {
      done.push(r);
      await deps.state.createCheck(r);
      await deps.bus.addCheck(r);
    }
  } catch (err) {
    await undo(done, deps);
    throw err;
  }
  deps.log.log('info', 'checks queued from several zones', {
    group: requests[0]?.group?.id,
    target: cmd.target,
    checks: requests.map((r) => `${r.zone}:${r.checkId}`).join(' '),
    user: who.requester.id,
  });
  return requests;
}

/** "1 check", "3 checks". */
const countOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function vantageQueuedText(
  target: string,
  all: boolean,
  requests: CheckRequest[],
  prefix: string,
  where = 'here',
): string {
  const each = requests.map((r) => `${r.zone} (${r.checkId})`).join(', ');
  return (
    `Queued ${countOf(requests.length, 'check')} of ${target}${all ? ' (all steps)' : ''}` +
    `${requests.length > 1 ? ' at once' : ''}, from ${each}. Each ` +
    `zone's steps follow ${where}, labelled by zone, then one comparison. Cancel one with: ${prefix} cancel <check-id>`
  );
}
