// `cancel <check-id|watch-id>`: a check of one's own (or any, for a policy admin) that is queued or running. A
// queued check is taken off the queue here; a running one is stopped by its worker, told through the state store.
import type { ChatCommand } from '../../commands/grammar.js';
import { WATCH_ID } from '../../model/ids.js';
import type { CheckRecord } from '../../model/jobs.js';
import { isAdmin, refusalText } from '../../policy/authorize.js';
import { cancelWatch } from '../../watch/watch-commands.js';
import type { IntakeReply } from '../intake-types.js';
import { gate, visible, type CommandContext } from './command-context.js';

type CancelCommand = Extract<ChatCommand, { kind: 'cancel' }>;

export async function handleCancel(cmd: CancelCommand, ctx: CommandContext): Promise<IntakeReply> {
  const { incoming, deps, policy } = ctx;
  const denied = gate(ctx, { action: 'cancel' });
  if (denied) return denied;
  if (WATCH_ID.test(cmd.id)) return cancelWatch(cmd.id, incoming, deps, isAdmin(policy, incoming.requester));
  const found = await deps.state.getCheck(cmd.id);
  const r = found && visible(ctx, found) ? found : undefined;
  if (!r) return { kind: 'refused', text: `no check ${cmd.id}` };
  const notYours = notTheirs(r, cmd.id, ctx);
  if (notYours) return notYours;
  if (r.status !== 'queued' && r.status !== 'running')
    return { kind: 'refused', text: `${cmd.id} is already ${r.status}; nothing to cancel` };
  return cancelCheck(r, cmd.id, ctx);
}

/** The refusal (logged) when the asker neither asked for the check nor is a policy admin. */
function notTheirs(r: CheckRecord, checkId: string, ctx: CommandContext): IntakeReply | undefined {
  const { incoming, policy } = ctx;
  const own =
    r.request.requester.platform === incoming.requester.platform && r.request.requester.id === incoming.requester.id;
  if (own || isAdmin(policy, incoming.requester)) return undefined;
  ctx.deps.log.log('info', 'refused by policy', {
    user: `${incoming.requester.platform}:${incoming.requester.id}`,
    reason: "cancel of another user's check",
    checkId,
  });
  return {
    kind: 'refused',
    text: refusalText(policy, {
      allowed: false,
      reason:
        `only ${r.request.requester.name ?? r.request.requester.id} (who asked for ${checkId}) or a ` +
        `policy admin may cancel it`,
    }),
  };
}

async function cancelCheck(r: CheckRecord, checkId: string, ctx: CommandContext): Promise<IntakeReply> {
  const { deps } = ctx;
  const by = ctx.incoming.requester.name ?? ctx.incoming.requester.id;
  await deps.state.requestCancel(checkId, by);
  const removed = await deps.bus.removeQueuedCheck(r.request);
  if (removed === 'active')
    return {
      kind: 'info',
      // Asked, not done: the worker may be past its last probe (the diagnosis comes instead) or gone (the queue
      // runs the job again, and the new attempt ends at once, saying so).
      text:
        `Cancelling ${checkId}: its worker has been asked to stop its probes and captures; the check's thread ` +
        'says what stopped, or shows its diagnosis if it finished first.',
    };
  // 'gone': the record says queued or running but no worker has it; cancelling clears it.
  await deps.state.updateCheck(checkId, { status: 'cancelled' });
  await deps.bus.addReport({ kind: 'cancelled', by, checkId, request: r.request, worker: 'intake', seq: 1 });
  return {
    kind: 'info',
    text:
      removed === 'removed'
        ? r.status === 'running'
          ? `Cancelled ${checkId}: it was waiting to be tried again and will not be.`
          : `Cancelled ${checkId} before it started.`
        : `Cancelled ${checkId}: no worker had it (it was not in the queue); it no longer counts as in flight.`,
  };
}
