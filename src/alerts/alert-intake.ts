// An alert notice becomes checks: one per alert group and VIP per checkEverySeconds (a claim in the shared
// state, so several bot processes behind one load balancer start it once), posted where the inventory routes
// it, through the same intake as a typed command (policy, rate limits, in-flight cap, audit) with the alert
// source as the requester. Later notices of the same group go into the same thread: a re-check while it keeps
// firing, the resolved line (and, when asked for, a confirming re-check) when it resolves.
import { createHash } from 'node:crypto';
import type { AlertsConfig } from '../inventory/alerts-schema.js';
import { errorFields } from '../log.js';
import { ALERT_PRINCIPAL_PLATFORM, type AlertTrigger } from '../model/alert-trigger.js';
import { handleCommand, type IntakeDeps, type IntakeReply } from '../pipeline/intake.js';
import type { ReplyTo } from '../model/jobs.js';
import type { AlertNotice, IncomingAlert } from './alert-payload.js';
import { routeAlerts, type RoutedTarget } from './alert-routing.js';
import { resolvedText, stormText, type Recheck } from '../messages/alert-text.js';

export type AlertOutcome =
  | { kind: 'queued'; target: string; checkId: string; rerunOf?: string }
  | { kind: 'deduplicated'; target: string; checkId?: string }
  | { kind: 'collapsed'; target: string }
  | { kind: 'refused'; target: string; reason: string }
  | { kind: 'resolved'; target: string; checkId?: string; recheckId?: string }
  | { kind: 'unrouted'; alert: string; why: string };

/** The queue could not take a check: the sender is told to retry (HTTP 503), and nothing is claimed. */
export class AlertQueueError extends Error {
  override name = 'AlertQueueError';
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The memo namespace of one alert group's checks of one VIP in one channel (which check, which thread). */
const groupMemo = (n: AlertNotice, rt: RoutedTarget): string =>
  `alrt-${hash([n.source, n.groupKey, rt.target, rt.replyTo.platform, rt.replyTo.channel].join('\n'))}`;
const channelMemo = (r: ReplyTo): string => `alrc-${hash(`${r.platform}\n${r.channel}`)}`;

function triggerOf(notice: AlertNotice, alerts: readonly IncomingAlert[]): AlertTrigger {
  const first = alerts[0];
  return {
    source: notice.source,
    name: first?.name ?? '(unnamed alert)',
    groupKey: notice.groupKey.slice(0, 1000),
    fingerprints: alerts.slice(0, 20).map((a) => a.fingerprint),
    ...(first?.url ? { url: first.url } : {}),
  };
}

async function audited(deps: IntakeDeps, t: AlertTrigger, r: ReplyTo, target: string, reason: string, refused = false) {
  await deps.audit
    ?.append({
      type: 'command',
      outcome: refused ? 'refused' : 'answered',
      command: `[alert] ${target}`,
      platform: ALERT_PRINCIPAL_PLATFORM,
      user: t.source,
      channel: r.channel,
      target,
      reason,
      alert: t,
    })
    .catch((err: unknown) => deps.log.log('error', 'could not write the audit record of an alert', errorFields(err)));
}

async function ask(deps: IntakeDeps, t: AlertTrigger, replyTo: ReplyTo, target: string, rerunOf?: string) {
  const reply: IntakeReply = await handleCommand(
    {
      requester: { platform: ALERT_PRINCIPAL_PLATFORM, id: t.source, name: `alert ${t.name}` },
      replyTo,
      text: target,
      via: 'alert',
      trigger: t,
      resultsWhere: 'in its thread',
      ...(rerunOf ? { rerunOf } : {}),
    },
    deps,
  );
  if (reply.kind === 'refused' && reply.error) throw new AlertQueueError(reply.text);
  return reply;
}

/** The thread a group's earlier check was posted in: later checks of the group go there too. */
async function threadOf(deps: IntakeDeps, checkId: string | undefined): Promise<string | undefined> {
  return checkId ? deps.state.getMemo(checkId, 'thread') : undefined;
}

async function postInThread(deps: IntakeDeps, checkId: string, kind: 'alert', text: string): Promise<boolean> {
  const record = await deps.state.getCheck(checkId);
  if (!record) return false;
  const n = hash(`${checkId}\n${text}`).slice(0, 12);
  await deps.bus.addReport({ kind, text, n, checkId, request: record.request, worker: 'alerts', seq: 0 });
  return true;
}

/** Beyond the cap, the first collapsed alert of the minute says so in the channel's newest alert thread. */
async function collapse(notice: AlertNotice, rt: RoutedTarget, config: AlertsConfig, deps: IntakeDeps) {
  const minute = Math.floor(Date.now() / 60_000);
  if (await deps.state.claimOnce(`alert-storm:${channelMemo(rt.replyTo)}:${minute}`, 120)) {
    const latest = await deps.state.getMemo(channelMemo(rt.replyTo), 'latest');
    if (latest) await postInThread(deps, latest, 'alert', stormText(config.maxChecksPerMinute, new Date()));
  }
  const t = triggerOf(notice, rt.alerts);
  await audited(deps, t, rt.replyTo, rt.target, `collapsed: more than ${config.maxChecksPerMinute} per minute`, true);
}

async function fire(notice: AlertNotice, rt: RoutedTarget, config: AlertsConfig, deps: IntakeDeps) {
  const firing = rt.alerts.filter((a) => a.status === 'firing');
  const t = triggerOf(notice, firing);
  const memo = groupMemo(notice, rt);
  const claim = `alert-check:${memo}`;
  const previous = await deps.state.getMemo(memo, 'check');
  if (!(await deps.state.claimOnce(claim, config.checkEverySeconds))) {
    await audited(deps, t, rt.replyTo, rt.target, `deduplicated: checked within ${config.checkEverySeconds} s`);
    return { kind: 'deduplicated' as const, target: rt.target, ...(previous ? { checkId: previous } : {}) };
  }
  if ((await deps.state.hit(`alerts:${channelMemo(rt.replyTo)}`, 60)) > config.maxChecksPerMinute) {
    await deps.state.releaseClaim(claim);
    await collapse(notice, rt, config, deps);
    return { kind: 'collapsed' as const, target: rt.target };
  }
  const thread = await threadOf(deps, previous);
  let reply: IntakeReply;
  try {
    reply = await ask(deps, t, thread ? { ...rt.replyTo, thread } : rt.replyTo, rt.target, thread && previous);
  } catch (err) {
    await deps.state.releaseClaim(claim);
    throw err;
  }
  if (reply.kind !== 'queued') {
    // Refused (policy, rate limit): the next notice of the group is judged again.
    await deps.state.releaseClaim(claim);
    return { kind: 'refused' as const, target: rt.target, reason: reply.text };
  }
  await deps.state.setMemo(memo, 'check', reply.checkId);
  await deps.state.setMemo(channelMemo(rt.replyTo), 'latest', reply.checkId);
  return {
    kind: 'queued' as const,
    target: rt.target,
    checkId: reply.checkId,
    ...(previous ? { rerunOf: previous } : {}),
  };
}

/** The confirming re-check of a resolved alert's check, in that check's thread. */
async function recheck(deps: IntakeDeps, t: AlertTrigger, rt: RoutedTarget, checkId: string): Promise<IntakeReply> {
  const thread = await threadOf(deps, checkId);
  return ask(deps, t, thread ? { ...rt.replyTo, thread } : rt.replyTo, rt.target, checkId);
}

async function resolve(notice: AlertNotice, rt: RoutedTarget, config: AlertsConfig, deps: IntakeDeps) {
  const t = triggerOf(notice, rt.alerts);
  const memo = groupMemo(notice, rt);
  const checkId = await deps.state.getMemo(memo, 'check');
  // A new firing after the resolve is a new incident: it is checked at once.
  await deps.state.releaseClaim(`alert-check:${memo}`);
  const endsAt = rt.alerts.map((a) => a.endsAt).find((e) => e !== undefined);
  if (!checkId || !(await deps.state.getCheck(checkId))) {
    await audited(deps, t, rt.replyTo, rt.target, 'resolved; no check of this alert group to answer in');
    return { kind: 'resolved' as const, target: rt.target };
  }
  // The re-check is asked for first: the line says whether it was queued or refused (a limit, the policy), never
  // that a result follows when none will.
  const reply = config.recheckOnResolve ? await recheck(deps, t, rt, checkId) : undefined;
  const queued = reply?.kind === 'queued';
  const said: Recheck = reply === undefined ? undefined : queued ? { queued } : { refused: reply.text };
  await postInThread(deps, checkId, 'alert', resolvedText(t, endsAt, said));
  await audited(deps, t, rt.replyTo, rt.target, `resolved; said in the thread of ${checkId}`);
  if (reply?.kind === 'queued') await deps.state.setMemo(memo, 'check', reply.checkId);
  if (!reply) return { kind: 'resolved' as const, target: rt.target, checkId };
  return {
    kind: 'resolved' as const,
    target: rt.target,
    checkId,
    ...(reply.kind === 'queued' ? { recheckId: reply.checkId } : {}),
  };
}

/** What became of each alert of the notice; throws AlertQueueError when the queue is away (retry later). */
export async function handleAlertNotice(notice: AlertNotice, deps: IntakeDeps): Promise<AlertOutcome[]> {
  const inventory = deps.inventory();
  const config = inventory?.alerts;
  if (!inventory || !config)
    return notice.alerts.map((a) => ({
      kind: 'unrouted',
      alert: a.name,
      why: 'the inventory has no alerts section, so alerts start no checks (see docs/alerts.md)',
    }));
  const { routed, unrouted } = routeAlerts(notice.alerts, config, inventory.vips);
  const outcomes: AlertOutcome[] = unrouted.map((u) => ({ kind: 'unrouted', ...u }));
  for (const u of unrouted) deps.log.log('info', 'alert not routed', { alert: u.alert, why: u.why });
  for (const rt of routed) {
    const firing = rt.alerts.some((a) => a.status === 'firing');
    outcomes.push(firing ? await fire(notice, rt, config, deps) : await resolve(notice, rt, config, deps));
  }
  return outcomes;
}
