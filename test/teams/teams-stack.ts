// Everything a Teams test or benchmark needs: the lab's inventory with a Teams
// policy, real Redis (unique prefix), the fake Bot Connector, real botbuilder,
// the report poster and (optionally) a probe worker.
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startTeams, type RunningTeams } from '../../adapters/teams/teams-app.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import { handleAction } from '../../src/pipeline/actions.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import type { Backend } from '../../src/pipeline/backend.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import type { Lab } from '../lab/lab.js';
import { startPlatformBase } from '../pipeline/platform-base.js';
import { FakeConnector } from './fake-connector.js';

export const LINK_SECRET = 'lab-link-secret';
export const CHANNEL = '19:incident@thread.tacv2';

export interface TeamsStack {
  teams: RunningTeams;
  connector: FakeConnector;
  backend: Backend;
  audit: AuditLog;
  /** Posts a message that @mentions the bot, as Teams would; returns the reply chain's conversation id. */
  mention(
    text: string,
    opts?: { user?: string; personal?: boolean; team?: string },
  ): Promise<{ status: number; conversationId: string }>;
  /** Clicks an Action.Execute button on a card in that reply chain, as Teams sends it (an adaptiveCard/action invoke). */
  click(
    kind: string,
    checkId: string,
    conversationId: string,
    opts?: { user?: string },
  ): Promise<{ status: number; body: { statusCode?: number; type?: string; value?: string } }>;
  close(): Promise<void>;
}

export async function startTeamsStack(
  lab: Lab,
  withWorker: boolean,
  /** watchTimeScale: the intake's TEST-ONLY watch time scale (0.02: a 10s interval runs every 200 ms). */
  opts: { watchTimeScale?: number } = {},
): Promise<TeamsStack> {
  const platform = await startPlatformBase(lab, '@lbcheck', [
    'users: [teams:aad-oncall]',
    'groups: [teams:team-netops]',
    `channels: ["teams:${CHANNEL}"]`,
  ]);
  const base = {
    ...platform,
    intakeDeps: {
      ...platform.intakeDeps,
      ...(opts.watchTimeScale ? { watchTimeScale: opts.watchTimeScale } : {}),
    },
  };
  const { backend, log, audit, inventory, config } = base;
  const connector = await new FakeConnector().start();
  const teams = await startTeams({
    appId: '',
    appPassword: '',
    local: true,
    port: 0,
    linkSecret: LINK_SECRET,
    linkTtlSeconds: 3600,
    evidence: (sha) => Promise.resolve(audit.evidence.get(sha)),
    log,
    intake: (incoming) => handleCommand(incoming, base.intakeDeps),
    action: (incoming, action) => handleAction(incoming, action, base.intakeDeps),
  });
  const closeables: Closeable[] = [startReportPoster(backend, [teams.poster], log, audit, base.intakeDeps)];
  if (withWorker) closeables.push(startCheckWorker(backend, config, () => inventory, log));
  let seq = 0;
  return {
    teams,
    connector,
    backend,
    audit,
    async mention(text, opts = {}) {
      const root = `${1_700_000_000_000 + ++seq}`;
      const conversationId = opts.personal ? `a:personal-${seq}` : `${CHANNEL};messageid=${root}`;
      const activity = {
        type: 'message',
        id: root,
        timestamp: new Date().toISOString(),
        serviceUrl: connector.serviceUrl,
        channelId: 'msteams',
        from: { id: '29:user', name: 'On Call', aadObjectId: opts.user ?? 'aad-oncall' },
        conversation: {
          id: conversationId,
          conversationType: opts.personal ? 'personal' : 'channel',
          tenantId: 'tenant-lab',
        },
        recipient: { id: '28:lbcheck-bot', name: 'lbcheck' },
        text: opts.personal ? text : `<at>lbcheck</at> ${text}`,
        entities: opts.personal
          ? []
          : [{ type: 'mention', mentioned: { id: '28:lbcheck-bot', name: 'lbcheck' }, text: '<at>lbcheck</at>' }],
        channelData: {
          tenant: { id: 'tenant-lab' },
          ...(opts.personal ? {} : { team: { id: opts.team ?? 'team-incident' } }),
        },
      };
      const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
      });
      await res.arrayBuffer();
      return { status: res.status, conversationId };
    },
    async click(kind, checkId, conversationId, opts = {}) {
      const activity = {
        type: 'invoke',
        name: 'adaptiveCard/action',
        id: `invoke-${++seq}`,
        timestamp: new Date().toISOString(),
        serviceUrl: connector.serviceUrl,
        channelId: 'msteams',
        from: { id: '29:user', name: 'On Call', aadObjectId: opts.user ?? 'aad-oncall' },
        conversation: { id: conversationId, conversationType: 'channel', tenantId: 'tenant-lab' },
        recipient: { id: '28:lbcheck-bot', name: 'lbcheck' },
        value: { action: { type: 'Action.Execute', verb: `lbcheck.${kind}`, data: { checkId } }, trigger: 'manual' },
        channelData: { tenant: { id: 'tenant-lab' }, team: { id: 'team-incident' } },
      };
      const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(activity),
      });
      const raw = await res.text();
      return { status: res.status, body: (raw ? JSON.parse(raw) : {}) as { statusCode?: number; value?: string } };
    },
    async close() {
      for (const c of closeables) await c.close();
      await teams.close();
      await connector.close();
      await base.close();
    },
  };
}
