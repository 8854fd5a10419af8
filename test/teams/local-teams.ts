// Teams in local (unauthenticated) mode for tests that drive its poster or receiver against the fake connector
// without the network lab, and the conversation reference a reply chain is posted to.
import { startTeams, type RunningTeams, type TeamsOptions } from '../../adapters/teams/teams-app.js';
import { createLogger } from '../../src/log.js';

/** Local mode on a free port, serving no evidence, answering every command with an unused line; override any. */
export function startLocalTeams(overrides: Partial<TeamsOptions> = {}): Promise<RunningTeams> {
  return startTeams({
    appId: '',
    appPassword: '',
    local: true,
    port: 0,
    linkSecret: 'local-teams-link-secret',
    linkTtlSeconds: 600,
    evidence: () => Promise.resolve(undefined),
    log: createLogger('silent'),
    intake: () => Promise.resolve({ kind: 'info' as const, text: 'unused' }),
    ...overrides,
  });
}

/** The stored reference of a command typed in a channel's reply chain (`<channel>;messageid=<activityId>`). */
export function teamsReference(conversation: string, serviceUrl: string, activityId: string): Record<string, unknown> {
  return {
    activityId,
    user: { id: '29:user', name: 'On Call', aadObjectId: 'aad-oncall' },
    bot: { id: '28:lbcheck-bot', name: 'lbcheck' },
    conversation: { id: conversation, conversationType: 'channel', tenantId: 'tenant-lab', isGroup: true },
    channelId: 'msteams',
    serviceUrl,
  };
}
