// Slack as a chat platform of lbcheck (see adapters/chat-platform.ts).
import { platformInfo } from '../../src/model/platforms.js';
import type { ChatPlatform } from '../chat-platform.js';
import { slackOptionsFromEnv, startSlack } from './slack-app.js';

type SlackSettings = NonNullable<ReturnType<typeof slackOptionsFromEnv>>;

export const platform: ChatPlatform<SlackSettings> = {
  info: platformInfo('slack') as NonNullable<ReturnType<typeof platformInfo>>,
  enabledBy: 'SLACK_BOT_TOKEN',
  fromEnv: (env) => slackOptionsFromEnv(env),
  describe: (s) => `Slack (${s.appToken ? 'Socket Mode' : `HTTP on port ${s.port}`})`,
  async start(settings, ctx) {
    const slack = await startSlack({
      ...settings,
      log: ctx.log,
      intake: ctx.intake,
      ...(ctx.action ? { action: ctx.action } : {}),
      policy: () => ctx.inventory()?.policy,
      claimOnce: (key, ttl) => ctx.state.claimOnce(key, ttl),
    });
    return {
      poster: slack.poster,
      endpoint:
        slack.port !== undefined
          ? `Slack request URL: http(s)://<this host>:${slack.port}/slack/commands`
          : 'Slack Socket Mode connected',
      readiness: async () => {
        const problem = await slack.authProblem();
        return problem ? { ok: false, detail: problem } : { ok: true, detail: 'Slack: bot token accepted (auth.test)' };
      },
      close: () => slack.close(),
    };
  },
};
