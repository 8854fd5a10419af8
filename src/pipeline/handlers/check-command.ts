// `<target> [--all] [--members ...] [--from ...]`: known target, policy, limits, then queued (one check, or one
// per zone for --from). Queued, never run here: the ack must not wait on the network.
import type { ChatCommand } from '../../commands/grammar.js';
import { errorFields } from '../../log.js';
import { newCheckId } from '../../model/check-id.js';
import type { CheckRequest } from '../../model/jobs.js';
import { parseEndpoint } from '../../target/endpoint.js';
import type { IntakeDeps, IntakeReply } from '../intake-types.js';
import { queueVantages, vantageQueuedText } from '../vantage-intake.js';
import { vantageZones, zoneFor } from '../vantage-zones.js';
import { checkableText, gate, targetName, type CommandContext } from './command-context.js';
import { rateLimited } from './rate-limit.js';

type CheckCommand = Extract<ChatCommand, { kind: 'check' }>;

/** The answer to a queued check (Teams posts it in the check's ordered chain: the same words). */
export function queuedText(
  checkId: string,
  target: string,
  all: boolean,
  where = 'in this reply chain',
  prefix = '@lbcheck',
): string {
  return (
    `Queued ${checkId}: checking ${target}${all ? ' (all steps)' : ''}. Each step's ` +
    `verdict follows ${where}. Cancel with: ${prefix} cancel ${checkId}`
  );
}

export async function handleCheck(cmd: CheckCommand, ctx: CommandContext): Promise<IntakeReply> {
  const unknown = unknownTarget(cmd.target, ctx);
  if (unknown) return unknown;
  const denied = gate(ctx, { action: 'check', target: cmd.target, members: cmd.members });
  if (denied) return denied;
  const target = targetName(ctx, cmd.target);
  // A VIP typed as ip:port is served by the zones of its inventory entry, as its name would be.
  const zones = cmd.from ? vantageZones(cmd.from, target, ctx.inventory) : undefined;
  const limited = await rateLimited(ctx, cmd.target, zones?.length);
  if (limited) return limited;
  return zones ? queueFromZones(cmd, target, zones, ctx) : queueOne(cmd, target, ctx);
}

/** The refusal of a name the inventory does not have (ip:port targets are checked by the policy instead). */
function unknownTarget(typed: string, ctx: CommandContext): IntakeReply | undefined {
  const isEndpoint = typed.includes(':') || /^[\d.]+$/.test(typed);
  if (isEndpoint) {
    parseEndpoint(typed, 'target');
    return undefined;
  }
  if (ctx.inventory?.vips.has(typed)) return undefined;
  const known = ctx.inventory ? checkableText(ctx) : '(no inventory loaded)';
  return {
    kind: 'refused',
    text:
      `unknown target "${typed}". Known targets: ${known}; or give ip:port. Usage: ${ctx.deps.prefix} ` +
      `${'<target> [--all] [--members IP:PORT,...]'}`,
  };
}

/** --from: one check per zone, queued together. */
async function queueFromZones(
  cmd: CheckCommand,
  target: string,
  zones: string[],
  ctx: CommandContext,
): Promise<IntakeReply> {
  const { incoming, deps } = ctx;
  const requests = await queueVantages({ ...cmd, target }, zones, incoming, deps);
  for (const r of requests) await announceQueued(r, deps);
  const first = requests[0] as CheckRequest;
  return {
    kind: 'queued',
    checkId: first.checkId,
    request: first,
    vantages: requests,
    text: vantageQueuedText(cmd.target, cmd.all, requests, deps.prefix, incoming.resultsWhere ?? 'here'),
  };
}

async function queueOne(cmd: CheckCommand, target: string, ctx: CommandContext): Promise<IntakeReply> {
  const { incoming, deps } = ctx;
  const request: CheckRequest = {
    checkId: newCheckId(),
    // An inventory VIP typed as ip:port is queued under its name: one name per target for limits and history,
    // and in the zone of that name's entry (the text as typed names no entry).
    target,
    members: cmd.members,
    all: cmd.all,
    requester: incoming.requester,
    replyTo: incoming.replyTo,
    zone: zoneFor(target, ctx.inventory),
    requestedAt: new Date().toISOString(),
    ...(incoming.rerunOf ? { rerunOf: incoming.rerunOf } : {}),
    ...(incoming.watch ? { watch: incoming.watch } : {}),
    ...(incoming.trigger ? { trigger: incoming.trigger } : {}),
  };
  await recordAndQueue(request, deps);
  await announceQueued(request, deps);
  deps.log.log('info', 'check queued', {
    checkId: request.checkId,
    target: request.target,
    zone: request.zone,
    user: incoming.requester.id,
  });
  return {
    kind: 'queued',
    checkId: request.checkId,
    request,
    text: queuedText(request.checkId, cmd.target, cmd.all, incoming.resultsWhere, deps.prefix),
  };
}

/** Records the check as queued, then queues it; the record goes again when the queue refuses it. */
async function recordAndQueue(request: CheckRequest, deps: IntakeDeps): Promise<void> {
  await deps.state.createCheck(request);
  try {
    await deps.bus.addCheck(request);
  } catch (err) {
    // Nothing was queued, so nothing may stay recorded as queued (it would hold an in-flight slot for good).
    await deps.state.discardCheck(request).catch((undo: unknown) =>
      deps.log.log('error', 'could not undo the record of a check that was not queued', {
        checkId: request.checkId,
        ...errorFields(undo),
      }),
    );
    throw err;
  }
}

/**
 * Shows the check where its results will appear as soon as it is queued (Slack: the parent message, "step 1
 * running…"), instead of after step 1, which can take seconds. Best effort: step 1's post creates it otherwise.
 */
async function announceQueued(request: CheckRequest, deps: IntakeDeps): Promise<void> {
  await deps.bus
    .addReport({ kind: 'queued', checkId: request.checkId, request, worker: 'intake', seq: 0 })
    .catch((err: unknown) =>
      deps.log.log('warn', 'could not queue the "check queued" post', {
        checkId: request.checkId,
        ...errorFields(err),
      }),
    );
}
