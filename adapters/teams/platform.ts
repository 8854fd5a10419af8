// Microsoft Teams as a chat platform of lbcheck (see adapters/chat-platform.ts).
import { platformInfo } from '../../src/model/platforms.js';
import type { ChatPlatform } from '../chat-platform.js';
import { startTeams } from './teams-app.js';
import { teamsOptionsFromEnv, type TeamsEnv } from './teams-env.js';

export const platform: ChatPlatform<TeamsEnv> = {
  info: platformInfo('teams') as NonNullable<ReturnType<typeof platformInfo>>,
  enabledBy: 'MicrosoftAppId (or TEAMS_LOCAL=1)',
  fromEnv: (env) => teamsOptionsFromEnv(env),
  describe: (s) =>
    `Teams (port ${s.port}${s.local ? ', UNAUTHENTICATED local mode (TEAMS_LOCAL=1): 127.0.0.1 only' : ''})`,
  async start(settings, ctx) {
    const teams = await startTeams({
      ...settings,
      log: ctx.log,
      intake: ctx.intake,
      ...(ctx.action ? { action: ctx.action } : {}),
      evidence: (sha) => Promise.resolve(ctx.audit.evidence.get(sha)),
    });
    return {
      poster: teams.poster,
      endpoint: teams.authenticated
        ? `Teams messaging endpoint: ${settings.publicUrl ?? ''}/api/messages (port ${teams.port})`
        : `Teams messaging endpoint: http://127.0.0.1:${teams.port}/api/messages (unauthenticated: set ` +
          `MicrosoftAppId/MicrosoftAppPassword for real Teams)`,
      // Bot Framework tokens are checked per request (incoming) and fetched per post (outgoing): nothing to ask ahead.
      readiness: () =>
        Promise.resolve({
          ok: true,
          detail: teams.authenticated
            ? 'Teams: app id set, tokens checked per request'
            : 'Teams: local mode, unauthenticated',
        }),
      close: () => teams.close(),
    };
  },
};
