// The Teams platform on botbuilder's CloudAdapter: Activities POSTed to
// /api/messages (authenticated as Bot Framework requires when an app id is
// configured), commands by @mention in a channel or in a personal chat, the
// answer in the same reply chain at once; and the signed evidence downloads.
// The HTTP side is teams-receiver.ts, what a turn does is teams-turns.ts; the
// routes the bot serves are the one list in startTeams.
import { CallerIdConstants, CloudAdapter, ConfigurationBotFrameworkAuthentication, type Request } from 'botbuilder';
import { ConfigError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { EVIDENCE_PATH, serveEvidence } from './evidence-route.js';
import { evidenceLinks } from './evidence-links.js';
import type { TeamsEnv } from './teams-env.js';
import { TeamsPoster } from './teams-poster.js';
import { expressLike, receiveActivity, startTeamsReceiver, type TeamsRoute } from './teams-receiver.js';
import { teamsTurns, type TurnHandlers } from './teams-turns.js';

/** How the bot obtains tokens for its replies; tests pass one that needs no Azure AD. */
export type TeamsCredentialsFactory = NonNullable<
  ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>[1]
>;

export interface TeamsOptions extends TeamsEnv, TurnHandlers {
  evidence: (sha256: string) => Promise<Buffer | undefined>;
  log: Logger;
  credentialsFactory?: TeamsCredentialsFactory;
}

export interface RunningTeams {
  poster: TeamsPoster;
  port: number;
  /** The address it listens on: 127.0.0.1 in local mode. */
  host: string;
  authenticated: boolean;
  close(): Promise<void>;
}

/**
 * botbuilder treats any one of its cloud settings as "all are given": replacing
 * only the OpenID metadata URL means restating the public cloud's other values.
 */
function publicCloudWithMetadata(url: string): Record<string, string> {
  return {
    ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
    ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
    OAuthUrl: 'https://api.botframework.com',
    ToBotFromChannelOpenIdMetadataUrl: url,
    ToBotFromEmulatorOpenIdMetadataUrl:
      'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
    CallerId: CallerIdConstants.PublicAzureChannel,
  };
}

function botAuthentication(opts: TeamsOptions): ConfigurationBotFrameworkAuthentication {
  return new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: opts.appId,
      MicrosoftAppPassword: opts.appPassword,
      ...(opts.tenantId ? { MicrosoftAppTenantId: opts.tenantId } : {}),
      ...(opts.appType ? { MicrosoftAppType: opts.appType } : {}),
      ...(opts.openIdMetadataUrl ? publicCloudWithMetadata(opts.openIdMetadataUrl) : {}),
    },
    opts.credentialsFactory,
  );
}

function cloudAdapter(auth: ConfigurationBotFrameworkAuthentication, log: Logger): CloudAdapter {
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (turn, err) => {
    log.log('error', 'teams turn failed', { error: err.message });
    await turn
      .sendActivity('lbcheck hit an internal error handling that; the details are in its log.')
      .catch(() => undefined);
  };
  return adapter;
}

export async function startTeams(opts: TeamsOptions): Promise<RunningTeams> {
  const authenticated = opts.appId !== '';
  // Without an app id nothing is authenticated: only when asked for, and only reachable from this machine.
  if (!authenticated && !opts.local)
    throw new ConfigError(
      'Teams has no MicrosoftAppId',
      'set MicrosoftAppId and MicrosoftAppPassword, or TEAMS_LOCAL=1 for the unauthenticated local mode',
    );
  const allow = { tenants: opts.allowedTenants ?? [], serviceUrlHosts: opts.serviceUrlHosts ?? [] };
  const auth = botAuthentication(opts);
  const adapter = cloudAdapter(auth, opts.log);
  const onTurn = teamsTurns(opts);
  const gate = { auth, authenticated, local: opts.local === true, allow, log: opts.log };
  let links = evidenceLinks(opts.publicUrl ?? '', opts.linkSecret, opts.linkTtlSeconds);

  // Everything the bot serves; anything else is a 404.
  const routes: TeamsRoute[] = [
    {
      method: 'POST',
      path: /^\/api\/messages$/,
      activities: true,
      handle: async (req, res) => {
        const body = await receiveActivity(req, res, gate);
        if (!body) return;
        const request: Request = { body, headers: req.headers, method: 'POST' };
        await adapter.process(request, expressLike(res, opts.log), onTurn);
        if (!res.writableEnded) res.end();
      },
    },
    {
      method: 'GET',
      path: EVIDENCE_PATH,
      handle: (_req, res, match, url) => serveEvidence(res, match, url, links, opts.evidence),
    },
  ];

  const receiver = await startTeamsReceiver({ port: opts.port, local: opts.local === true, routes, log: opts.log });
  const port = receiver.port;
  if (!authenticated)
    opts.log.log('warn', 'Teams runs UNAUTHENTICATED (TEAMS_LOCAL=1): listening on 127.0.0.1 only, for local use', {
      port,
    });
  if (!opts.publicUrl) links = evidenceLinks(`http://127.0.0.1:${port}`, opts.linkSecret, opts.linkTtlSeconds);
  return {
    poster: new TeamsPoster(adapter, opts.appId, links),
    port,
    host: receiver.host,
    authenticated,
    close: () => receiver.close(),
  };
}
