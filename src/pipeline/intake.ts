// Command intake: every adapter hands the text the user typed to one entry
// point, and gets back what to answer at once (the ack). Checks are queued,
// never run here: the ack must not wait on the network.
import type { AuditLog } from '../audit/audit-log.js';
import { newCheckId } from '../model/check-id.js';
import { CommandSyntaxError, helpText, parseCommand } from '../commands/grammar.js';
import { describeFailure } from '../errors.js';
import type { Inventory, InventoryVip } from '../inventory/inventory-types.js';
import { errorFields, type Logger } from '../log.js';
import { authorize, inventoryVipFor, isAdmin, refusalText, type AccessRequest } from '../policy/authorize.js';
import { NO_POLICY, type Policy } from '../policy/policy-types.js';
import { checkableNames, mayRead } from '../policy/visibility.js';
import { parseEndpoint } from '../target/endpoint.js';
import { WATCH_ID } from '../model/ids.js';
import { cancelWatch, startWatch } from '../watch/watch-commands.js';
import type { JobBus } from './job-bus.js';
import type { PipelineState } from './state.js';
import type { AlertTrigger, CheckRecord, CheckRequest, ReplyTo, Requester } from '../model/jobs.js';
import { queueVantages, vantageQueuedText } from './vantage-intake.js';
import { vantageZones, zoneFor } from './vantage-zones.js';
import { recordCommand } from '../ops/metrics.js';

export interface Incoming {
  requester: Requester;
  replyTo: ReplyTo;
  /** The text after the bot's name or slash command. */
  text: string;
  /** Where this platform shows a check's results, for the ack ("in this reply chain"); "here" when absent. */
  resultsWhere?: string;
  /** Set when the command is a re-run of that check (a button): the new check is compared against it. */
  rerunOf?: string;
  /** What the user did, when not typing (e.g. "button"), for the audit record. */
  via?: string;
  /** Set when a watch queues one of its rounds. */
  watch?: { id: string; round: number };
  /** Set when an alert asks (src/alerts): the check carries it, and the audit record names it. */
  trigger?: AlertTrigger;
  /**
   * Set by an adapter that must answer within a deadline (Slack acks in 3 s): the command's audit record is then
   * handed over as a promise (queued in order, never dropped) instead of awaited before the reply.
   */
  deferAudit?: (written: Promise<void>) => void;
}

export type IntakeReply =
  /** vantages: a --from command's checks, one per zone (request is the first of them). */
  | { kind: 'queued'; text: string; checkId: string; request: CheckRequest; vantages?: CheckRequest[] }
  | { kind: 'info'; text: string }
  /** error: the command could not be handled (queue unavailable), not refused for what it asked. */
  | { kind: 'refused'; text: string; error?: true };

export interface IntakeDeps {
  state: PipelineState;
  bus: JobBus;
  inventory: () => Inventory | undefined;
  log: Logger;
  /** How users invoke the bot on this platform, for usage lines ("/lbcheck", "@lbcheck"). */
  prefix: string;
  /** Every command, accepted or refused, is recorded here. */
  audit?: AuditLog;
  /** TEST ONLY: multiplies a watch's interval and duration (e.g. 0.02: 10s becomes 200 ms). Never set in production. */
  watchTimeScale?: number;
}

function describe(r: CheckRecord): string {
  const req = r.request;
  const head =
    `${req.checkId} · ${req.target} · ${r.status}${r.culprit ? ` · culprit ${r.culprit}` : ''} · by ` +
    `${req.requester.name ?? req.requester.id} at ` +
    `${req.requestedAt}${req.rerunOf ? ` · re-run of ${req.rerunOf}` : ''}`;
  return head;
}

/** One target's checks oldest first, and how its culprit went: what happened during the incident. */
function sequenceText(target: string, newestFirst: CheckRecord[]): string {
  const oldestFirst = [...newestFirst].reverse();
  const culprits = oldestFirst.map((r) => r.culprit ?? r.status);
  return [
    `Checks of ${target}, oldest first:`,
    ...oldestFirst.map((r) => `  ${describe(r)}`),
    `Culprit over time: ${culprits.join(' → ')}`,
  ].join('\n');
}

/** Per-user and per-channel rate limits (shared through the state store) and the in-flight cap per target. */
async function rateLimited(
  target: string,
  incoming: Incoming,
  policy: Policy,
  deps: IntakeDeps,
  vips: ReadonlyMap<string, InventoryVip>,
  /** Checks this command queues: a --from command takes one in-flight slot per zone. */
  slots = 1,
): Promise<IntakeReply | undefined> {
  const who = `${incoming.requester.platform}:${incoming.requester.id}`;
  const where = `${incoming.replyTo.platform}:${incoming.replyTo.channel}`;
  const refuse = (reason: string): IntakeReply => {
    deps.log.log('info', 'refused by rate limit', { user: who, channel: where, reason });
    return { kind: 'refused', text: refusalText(policy, { allowed: false, reason }) };
  };
  const { perUserPerMinute, perChannelPerMinute, inFlightPerTarget } = policy.limits;
  if ((await deps.state.hit(`user:${who}`, 60)) > perUserPerMinute)
    return refuse(`you reached the limit of ${perUserPerMinute} checks per minute; try again in a minute`);
  if ((await deps.state.hit(`channel:${where}`, 60)) > perChannelPerMinute)
    return refuse(`this channel reached the limit of ${perChannelPerMinute} checks per minute; try again in a minute`);
  const name = inventoryVipFor(target, vips)?.name ?? target;
  const flying = await deps.state.inFlightCount(name);
  if (flying + slots > inFlightPerTarget) {
    return refuse(
      `${flying} checks of ${name} are already queued or running (see ${deps.prefix} status); wait for them or ` +
        `cancel one`,
    );
  }
  return undefined;
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

export async function handleCommand(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const reply = await answer(incoming, deps);
  recordCommand(
    incoming.replyTo.platform,
    reply.kind === 'info' ? 'answered' : reply.kind === 'refused' && reply.error ? 'error' : reply.kind,
  );
  const written = deps.audit ? auditCommand(incoming, reply, deps.audit, deps.log) : undefined;
  // An adapter that must answer within a deadline (Slack's 3 s ack) answers first and awaits the write after.
  if (written && incoming.deferAudit) incoming.deferAudit(written);
  else await written;
  return reply;
}

/** The command's audit record, queued in order behind any write waiting for the lock; never rejects. */
function auditCommand(incoming: Incoming, reply: IntakeReply, audit: AuditLog, log: Logger): Promise<void> {
  const r = incoming.requester;
  // The user still gets the answer if the audit write fails; the failure is logged loudly.
  return audit
    .append({
      type: 'command',
      outcome: reply.kind === 'queued' ? 'queued' : reply.kind === 'refused' ? 'refused' : 'answered',
      command: `${incoming.via ? `[${incoming.via}] ` : ''}${incoming.text}`.slice(0, 500),
      platform: r.platform,
      user: r.id,
      ...(r.name ? { userName: r.name } : {}),
      channel: incoming.replyTo.channel,
      ...(reply.kind === 'queued' ? { checkId: reply.checkId, target: reply.request.target } : {}),
      ...(reply.kind === 'queued' && reply.vantages
        ? { vantages: reply.vantages.map((v) => ({ zone: v.zone, checkId: v.checkId })) }
        : {}),
      ...(reply.kind === 'refused' ? { reason: reply.text } : {}),
      ...(incoming.trigger ? { alert: incoming.trigger } : {}),
    })
    .then(
      () => undefined,
      (err: unknown) =>
        log.log('error', 'could not write the audit record of a command', {
          ...errorFields(err),
          command: incoming.text.slice(0, 200),
        }),
    );
}

async function answer(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const log = deps.log.child({
    platform: incoming.replyTo.platform,
    user: incoming.requester.id,
    channel: incoming.replyTo.channel,
  });
  try {
    return await dispatch(incoming, deps);
  } catch (err) {
    if (err instanceof CommandSyntaxError) {
      log.log('info', 'command refused', { reason: err.message });
      return { kind: 'refused', text: err.message };
    }
    const failure = describeFailure(err);
    if (failure.kind === 'internal')
      log.log('error', 'command failed: internal error', { ...errorFields(err), ref: failure.ref });
    else if (failure.kind === 'unreachable')
      log.log('error', 'command failed: a dependency did not answer', errorFields(err));
    else log.log('info', 'command refused', { reason: failure.text });
    // internal / unreachable: the command could not be handled (counted as an error, not a refusal).
    const error = failure.kind === 'internal' || failure.kind === 'unreachable';
    return { kind: 'refused', text: failure.text, ...(error ? { error: true as const } : {}) };
  }
}

// eslint-disable-next-line max-lines-per-function, complexity -- to split (issue 30, docs/architecture.md)
async function dispatch(incoming: Incoming, deps: IntakeDeps): Promise<IntakeReply> {
  const cmd = parseCommand(incoming.text, deps.prefix);
  const inventory = deps.inventory();
  const policy = inventory?.policy ?? NO_POLICY;
  const vips = inventory?.vips ?? new Map();
  const gate = (req: Omit<AccessRequest, 'requester' | 'channel'>): IntakeReply | undefined => {
    const d = authorize(policy, vips, {
      ...req,
      requester: incoming.requester,
      channel: incoming.replyTo.channel,
      channelPlatform: incoming.replyTo.platform,
    });
    if (d.allowed) return undefined;
    deps.log.log('info', 'refused by policy', {
      user: `${incoming.requester.platform}:${incoming.requester.id}`,
      channel: incoming.replyTo.channel,
      reason: d.reason,
      rule: d.rule ?? null,
      command: incoming.text.slice(0, 200),
    });
    return { kind: 'refused', text: refusalText(policy, d) };
  };
  const visible = (r: CheckRecord): boolean => mayRead(policy, vips, incoming, r);
  switch (cmd.kind) {
    case 'help':
      return { kind: 'info', text: helpText(deps.prefix) };
    case 'check': {
      const isEndpoint = cmd.target.includes(':') || /^[\d.]+$/.test(cmd.target);
      if (isEndpoint) parseEndpoint(cmd.target, 'target');
      else if (!inventory?.vips.has(cmd.target)) {
        // Only names this user may check: the inventory itself is not for everyone to read.
        const known = inventory
          ? checkableNames(policy, vips, incoming).join(', ') || '(none you may check)'
          : '(no inventory loaded)';
        return {
          kind: 'refused',
          text:
            `unknown target "${cmd.target}". Known targets: ${known}; or give ip:port. Usage: ${deps.prefix} ` +
            `${'<target> [--all] [--members IP:PORT,...]'}`,
        };
      }
      const denied = gate({ action: 'check', target: cmd.target, members: cmd.members });
      if (denied) return denied;
      // A VIP typed as ip:port is served by the zones of its inventory entry, as its name would be.
      const zones = cmd.from
        ? vantageZones(cmd.from, inventoryVipFor(cmd.target, vips)?.name ?? cmd.target, inventory)
        : undefined;
      const limited = await rateLimited(cmd.target, incoming, policy, deps, vips, zones?.length);
      if (limited) return limited;
      if (zones) {
        const target = inventoryVipFor(cmd.target, vips)?.name ?? cmd.target;
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
      const request: CheckRequest = {
        checkId: newCheckId(),
        // An inventory VIP typed as ip:port is queued under its name: one name per target for limits and history.
        target: inventoryVipFor(cmd.target, vips)?.name ?? cmd.target,
        members: cmd.members,
        all: cmd.all,
        requester: incoming.requester,
        replyTo: incoming.replyTo,
        zone: zoneFor(cmd.target, inventory),
        requestedAt: new Date().toISOString(),
        ...(incoming.rerunOf ? { rerunOf: incoming.rerunOf } : {}),
        ...(incoming.watch ? { watch: incoming.watch } : {}),
        ...(incoming.trigger ? { trigger: incoming.trigger } : {}),
      };
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
    case 'status': {
      const denied = gate({ action: 'read' });
      if (denied) return denied;
      if (!cmd.id) {
        const flying = (await deps.state.inFlight()).filter(visible);
        return {
          kind: 'info',
          text:
            flying.length === 0
              ? 'No checks queued or running.'
              : ['Checks in flight:', ...flying.map((r) => `  ${describe(r)}`)].join('\n'),
        };
      }
      const found = await deps.state.getCheck(cmd.id);
      // A check this user may not read answers like one that does not exist: its id says nothing either.
      const r = found && visible(found) ? found : undefined;
      if (!r) return { kind: 'refused', text: `no check ${cmd.id} (it may have expired). See ${deps.prefix} history` };
      return {
        kind: 'info',
        text: [
          describe(r),
          ...r.steps.map((s) => `  step ${s.step} ${s.name}: ${s.verdict.toUpperCase()} · ${s.summary}`),
          ...(r.diagnosis ? [`  diagnosis: ${r.diagnosis}`] : []),
          ...(r.error ? [`  error: ${r.error}`] : []),
        ].join('\n'),
      };
    }
    case 'history': {
      const denied = gate({ action: 'read' });
      if (denied) return denied;
      const list = (await deps.state.history(cmd.target, 200)).filter(visible).slice(0, 10);
      if (list.length === 0)
        return { kind: 'info', text: cmd.target ? `No checks of ${cmd.target} yet.` : 'No checks yet.' };
      if (cmd.target) return { kind: 'info', text: sequenceText(cmd.target, list) };
      return {
        kind: 'info',
        text: [`Recent checks${cmd.target ? ` of ${cmd.target}` : ''}:`, ...list.map((r) => `  ${describe(r)}`)].join(
          '\n',
        ),
      };
    }
    case 'watch': {
      const unknown = cmd.target.includes(':') || inventory?.vips.has(cmd.target) ? undefined : cmd.target;
      if (unknown !== undefined)
        return {
          kind: 'refused',
          text:
            `unknown target "${unknown}". Known targets: ` +
            `${checkableNames(policy, vips, incoming).join(', ') || '(none you may check)'}`,
        };
      const denied = gate({ action: 'check', target: cmd.target, members: [] });
      if (denied) return denied;
      // Starting a watch counts like a check; each round is counted again when it is queued.
      const limited = await rateLimited(cmd.target, incoming, policy, deps, vips);
      if (limited) return limited;
      return startWatch({ ...cmd, target: inventoryVipFor(cmd.target, vips)?.name ?? cmd.target }, incoming, deps);
    }
    case 'cancel': {
      const denied = gate({ action: 'cancel' });
      if (denied) return denied;
      if (WATCH_ID.test(cmd.id)) return cancelWatch(cmd.id, incoming, deps, isAdmin(policy, incoming.requester));
      const found = await deps.state.getCheck(cmd.id);
      const r = found && visible(found) ? found : undefined;
      if (!r) return { kind: 'refused', text: `no check ${cmd.id}` };
      const own =
        r.request.requester.platform === incoming.requester.platform &&
        r.request.requester.id === incoming.requester.id;
      if (!own && !isAdmin(policy, incoming.requester)) {
        deps.log.log('info', 'refused by policy', {
          user: `${incoming.requester.platform}:${incoming.requester.id}`,
          reason: "cancel of another user's check",
          checkId: cmd.id,
        });
        return {
          kind: 'refused',
          text: refusalText(policy, {
            allowed: false,
            reason:
              `only ${r.request.requester.name ?? r.request.requester.id} (who asked for ${cmd.id}) or a ` +
              `policy admin may cancel it`,
          }),
        };
      }
      if (r.status !== 'queued' && r.status !== 'running')
        return { kind: 'refused', text: `${cmd.id} is already ${r.status}; nothing to cancel` };
      const by = incoming.requester.name ?? incoming.requester.id;
      await deps.state.requestCancel(cmd.id, by);
      const removed = await deps.bus.removeQueuedCheck(r.request);
      if (removed !== 'active') {
        // 'gone': the record says queued or running but no worker has it; cancelling clears it.
        await deps.state.updateCheck(cmd.id, { status: 'cancelled' });
        await deps.bus.addReport({
          kind: 'cancelled',
          by,
          checkId: cmd.id,
          request: r.request,
          worker: 'intake',
          seq: 1,
        });
        return {
          kind: 'info',
          text:
            removed === 'removed'
              ? `Cancelled ${cmd.id} before it started.`
              : `Cancelled ${cmd.id}: no worker had it (it was not in the queue); it no longer counts as in flight.`,
        };
      }
      return { kind: 'info', text: `Cancelling ${cmd.id}: the worker stops it and its capture within a second.` };
    }
  }
}
