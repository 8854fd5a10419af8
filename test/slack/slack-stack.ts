// Everything a Slack test or benchmark needs: the lab's inventory with a Slack
// policy, real Redis (unique prefix), the fake Web API, real Bolt, the report
// poster and (optionally) a probe worker.
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import { handleAction } from '../../src/pipeline/actions.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import type { RuntimeConfig } from '../../src/runtime/env-config.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import type { Lab } from '../lab/lab.js';
import { startPlatformBase } from '../pipeline/platform-base.js';
import { FakeSlack, slackSignature, slashCommandForm } from './fake-slack.js';

export const SLACK_SECRET = 'lab-signing-secret';

export interface SlackStack {
  fake: FakeSlack;
  slack: RunningSlack;
  backend: Backend;
  /** The settings the stack's worker runs with (for a test that starts a worker of its own). */
  config: RuntimeConfig;
  audit: AuditLog;
  slash(
    text: string,
    opts?: { user?: string; channel?: string; secret?: string; timestamp?: number },
  ): Promise<{ status: number; body: string }>;
  /** Stops the report poster and watch runner and starts new ones on new Redis connections (a bot restart). */
  restartBotSide(): Promise<void>;
  /** Clicks one of lbcheck's buttons on the message `ts` (in thread `threadTs`), as Slack posts it: signed, to /slack/actions. */
  click(
    kind: string,
    checkId: string,
    where: { ts: string; threadTs?: string },
    opts?: { user?: string; channel?: string; secret?: string },
  ): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startSlackStack(
  lab: Lab,
  withWorker: boolean,
  /** watchTimeScale: the intake's TEST-ONLY watch time scale (0.02: a 10s interval runs every 200 ms). */
  opts: { socketMode?: boolean; fileMaxBytes?: number; watchTimeScale?: number } = {},
): Promise<SlackStack> {
  const base = await startPlatformBase(lab, '/lbcheck', [
    'users: [slack:U0ONCALL]',
    'groups: [slack:S0NETOPS]',
    'channels: [slack:C0INCIDENT]',
  ]);
  const { backend, log, audit, inventory, config } = base;
  const intakeDeps = { ...base.intakeDeps, ...(opts.watchTimeScale ? { watchTimeScale: opts.watchTimeScale } : {}) };
  const fake = await new FakeSlack().start();
  const slack = await startSlack({
    botToken: 'xoxb-lab',
    signingSecret: SLACK_SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    fileMaxBytes: opts.fileMaxBytes ?? 1024 * 1024,
    ...(opts.socketMode ? { appToken: 'xapp-lab' } : {}),
    log,
    intake: (incoming) => handleCommand(incoming, intakeDeps),
    action: (incoming, action) => handleAction(incoming, action, intakeDeps),
    policy: () => inventory.policy,
    claimOnce: (key, ttl) => backend.intakeState.claimOnce(key, ttl),
  });
  let botSide = startReportPoster(backend, [slack.poster], log, audit, intakeDeps);
  const closeables: Closeable[] = [{ close: () => botSide.close() }];
  if (withWorker) closeables.push(startCheckWorker(backend, config, () => inventory, log));
  const restarted: Backend[] = [];
  return {
    async restartBotSide() {
      // A new process would have its own Redis connections: so does the restarted poster and watch runner.
      await botSide.close();
      const fresh = await connectBackend(config, false);
      restarted.push(fresh);
      botSide = startReportPoster(fresh, [slack.poster], log, audit, {
        ...intakeDeps,
        state: fresh.intakeState,
        bus: fresh.bus,
      });
    },
    fake,
    slack,
    backend,
    config,
    audit,
    async slash(text, o = {}) {
      const form = slashCommandForm(text, fake.port, {
        ...(o.channel ? { channel: o.channel } : {}),
        ...(o.user ? { user: o.user } : {}),
      });
      const res = await fetch(`http://127.0.0.1:${slack.port}/slack/commands`, {
        method: 'POST',
        headers: slackSignature(o.secret ?? SLACK_SECRET, form, o.timestamp),
        body: form,
      });
      return { status: res.status, body: await res.text() };
    },
    async click(kind, checkId, where, o = {}) {
      const payload = {
        type: 'block_actions',
        user: { id: o.user ?? 'U0ONCALL', username: 'oncall', name: 'oncall', team_id: 'T0LAB' },
        api_app_id: 'A0LAB',
        token: 'legacy',
        container: {
          type: 'message',
          message_ts: where.ts,
          channel_id: o.channel ?? 'C0INCIDENT',
          is_ephemeral: false,
        },
        trigger_id: '1.2.4',
        team: { id: 'T0LAB', domain: 'lab' },
        channel: { id: o.channel ?? 'C0INCIDENT', name: 'incident' },
        message: { type: 'message', ts: where.ts, ...(where.threadTs ? { thread_ts: where.threadTs } : {}), text: '' },
        response_url: `http://127.0.0.1:${fake.port}/respond-action`,
        actions: [
          {
            type: 'button',
            action_id: `lbcheck:${kind}`,
            block_id: `lbcheck-actions-${checkId}`,
            value: checkId,
            text: { type: 'plain_text', text: kind },
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      };
      const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const res = await fetch(`http://127.0.0.1:${slack.port}/slack/actions`, {
        method: 'POST',
        headers: slackSignature(o.secret ?? SLACK_SECRET, form),
        body: form,
      });
      return { status: res.status, body: await res.text() };
    },
    async close() {
      for (const c of closeables) await c.close();
      for (const b of restarted) await b.close();
      await slack.close();
      await fake.close();
      await base.close();
    },
  };
}
