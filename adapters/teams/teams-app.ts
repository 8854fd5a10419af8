// The Teams platform on botbuilder's CloudAdapter: Activities POSTed to
// /api/messages (authenticated as Bot Framework requires when an app id is
// configured), commands by @mention in a channel or in a personal chat, the
// answer in the same reply chain at once; and the signed evidence downloads.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ActivityTypes,
  CallerIdConstants,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Activity,
  type Request,
  type Response,
} from 'botbuilder';
import { ConfigError } from '../../src/errors.js';
import { errorFields, type Logger } from '../../src/log.js';
import type { Incoming, IntakeReply } from '../../src/pipeline/intake.js';
import { parseAction, type ChatAction } from '../../src/pipeline/actions.js';
import type { ReplyTo, Requester } from '../../src/model/jobs.js';
import { buttonsCard, VERB } from './teams-cards.js';
import { evidenceContentType } from './card-image.js';
import { evidenceLinks } from './evidence-links.js';
import type { TeamsEnv } from './teams-env.js';
import { ownsAck, TeamsPoster } from './teams-poster.js';
import {
  activityRefusal,
  BodyTooLargeError,
  hasBearerToken,
  localRequestRefusal,
  localServiceUrlRefusal,
  readCappedBody,
} from './teams-request-guard.js';

/** How the bot obtains tokens for its replies; tests pass one that needs no Azure AD. */
export type TeamsCredentialsFactory = NonNullable<
  ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>[1]
>;

export interface TeamsOptions extends TeamsEnv {
  evidence: (sha256: string) => Promise<Buffer | undefined>;
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  /** A button click (Action.Execute), as a command by the clicking user (handleAction). */
  action?: (incoming: Omit<Incoming, 'text'>, action: ChatAction) => Promise<IntakeReply>;
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
 * botbuilder expects an express-like response. It answers a failed
 * authentication with the validator's message (and other failures with
 * theirs): callers get only the status, the details go to the log.
 */
function expressLike(res: ServerResponse, log: Logger): Response {
  return {
    socket: res.socket,
    header: (name: string, value: unknown) => res.setHeader(name, String(value)),
    status: (code: number) => {
      res.statusCode = code;
    },
    send: (body?: unknown) => {
      if (res.statusCode >= 400) {
        log.log('warn', 'teams request refused', { status: res.statusCode, detail: String(body).slice(0, 300) });
        if (!res.headersSent) res.setHeader('content-type', 'text/plain');
        res.write(res.statusCode === 401 ? 'unauthorized' : 'request failed');
        return;
      }
      if (body !== undefined && !res.headersSent && typeof body === 'object')
        res.setHeader('content-type', 'application/json');
      if (body === undefined || body === null) return;
      res.write(typeof body === 'string' ? body : JSON.stringify(body));
    },
    end: () => res.end(),
  };
}

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw.toString('utf8') || '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res
    .writeHead(status, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff', connection: 'close' })
    .end(text);
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

/** Who sent an activity. A channel message carries its team: its sender is a member (policy "teams:<team id>"). */
function requesterOf(a: Activity): Requester {
  const team = (a.channelData as { team?: { id?: string; aadGroupId?: string } } | undefined)?.team;
  const groups = [team?.id, team?.aadGroupId].filter((g): g is string => typeof g === 'string' && g !== '');
  return { platform: 'teams', id: a.from.aadObjectId ?? a.from.id, name: a.from.name, groups };
}

/** The policy names channels; a channel thread's conversation id adds ";messageid=…" for the reply chain. */
function replyToOf(a: Activity): ReplyTo {
  return {
    platform: 'teams',
    channel: a.conversation.id.split(';')[0] ?? a.conversation.id,
    extra: { reference: TurnContext.getConversationReference(a) },
  };
}

// eslint-disable-next-line max-lines-per-function -- to split (issue 30, docs/architecture.md)
export async function startTeams(opts: TeamsOptions): Promise<RunningTeams> {
  const authenticated = opts.appId !== '';
  // Without an app id nothing is authenticated: only when asked for, and only reachable from this machine.
  if (!authenticated && !opts.local)
    throw new ConfigError(
      'Teams has no MicrosoftAppId',
      'set MicrosoftAppId and MicrosoftAppPassword, or TEAMS_LOCAL=1 for the unauthenticated local mode',
    );
  const allow = { tenants: opts.allowedTenants ?? [], serviceUrlHosts: opts.serviceUrlHosts ?? [] };
  const auth = new ConfigurationBotFrameworkAuthentication(
    {
      MicrosoftAppId: opts.appId,
      MicrosoftAppPassword: opts.appPassword,
      ...(opts.tenantId ? { MicrosoftAppTenantId: opts.tenantId } : {}),
      ...(opts.appType ? { MicrosoftAppType: opts.appType } : {}),
      ...(opts.openIdMetadataUrl ? publicCloudWithMetadata(opts.openIdMetadataUrl) : {}),
    },
    opts.credentialsFactory,
  );
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (turn, err) => {
    opts.log.log('error', 'teams turn failed', { error: err.message });
    await turn
      .sendActivity('lbcheck hit an internal error handling that; the details are in its log.')
      .catch(() => undefined);
  };
  let links = evidenceLinks(opts.publicUrl ?? '', opts.linkSecret, opts.linkTtlSeconds);

  const onTurn = async (turn: TurnContext): Promise<void> => {
    const a = turn.activity;
    if (a.type === 'invoke' && a.name === 'adaptiveCard/action') return onAction(turn);
    if (a.type !== 'message') return;
    const text = (TurnContext.removeRecipientMention(a) ?? a.text ?? '').replace(/^\s*lbcheck\b\s*/i, '').trim();
    const words = text.split(/\s+/);
    // "@lbcheck check web-vip" and "@lbcheck web-vip" both run a check.
    const command = words[0] === 'check' ? words.slice(1).join(' ') : text;
    const reply = await opts.intake({
      requester: requesterOf(a),
      replyTo: replyToOf(a),
      text: command,
      resultsWhere: 'in this reply chain',
    });
    const answer = reply.kind === 'refused' ? `❌ ${reply.text}` : reply.text;
    // A typed check's ack (with its Cancel button) is posted in the check's ordered chain (TeamsPoster.postQueued),
    // so a 429 on it can never let a step or the diagnosis overtake it.
    if (reply.kind === 'queued' && ownsAck(reply.request)) return;
    await turn.sendActivity(
      reply.kind === 'queued'
        ? {
            type: 'message',
            text: answer,
            attachments: [CardFactory.adaptiveCard(buttonsCard('While it runs:', reply.checkId, ['cancel']))],
          }
        : answer,
    );
  };

  /**
   * A click on an Action.Execute button. The answer goes back in the invoke response as a message, which Teams
   * shows to the clicker only; a queued check's results go to the reply chain the card is in.
   */
  const onAction = async (turn: TurnContext): Promise<void> => {
    const a = turn.activity;
    const value = a.value as { action?: { verb?: unknown; data?: { checkId?: unknown } } } | undefined;
    const verb = typeof value?.action?.verb === 'string' ? VERB.exec(value.action.verb)?.[1] : undefined;
    const parsed = parseAction(verb, value?.action?.data?.checkId);
    let text = '❌ lbcheck cannot act on that button (unknown action); type the command instead.';
    if (parsed && opts.action) {
      const reply = await opts.action(
        { requester: requesterOf(a), replyTo: replyToOf(a), resultsWhere: 'in this reply chain' },
        parsed,
      );
      text = reply.kind === 'refused' ? `❌ ${reply.text}` : reply.text;
    }
    await turn.sendActivity({
      type: ActivityTypes.InvokeResponse,
      value: {
        status: 200,
        body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text },
      },
    });
  };

  let boundPort = 0;
  // eslint-disable-next-line max-lines-per-function -- to split (issue 30, docs/architecture.md)
  const server: Server = createServer((req, res) => {
    // eslint-disable-next-line max-lines-per-function, complexity -- to split (issue 30, docs/architecture.md)
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://bot');
      const isMessage = req.method === 'POST' && url.pathname === '/api/messages';
      const localRefused = opts.local ? localRequestRefusal(req, boundPort, isMessage) : undefined;
      if (localRefused) {
        opts.log.log('warn', 'teams local-mode request refused', { status: localRefused.status });
        plain(res, localRefused.status, localRefused.text);
        return;
      }
      if (isMessage) {
        // Before reading a byte of the body: no token, no work.
        if (authenticated && !hasBearerToken(req)) {
          plain(res, 401, 'unauthorized');
          return;
        }
        let raw: Buffer;
        try {
          raw = await readCappedBody(req);
        } catch (err) {
          if (!(err instanceof BodyTooLargeError)) throw err;
          plain(res, 413, 'request body too large');
          return;
        }
        const body = parseObject(raw);
        if (!body) {
          plain(res, 400, 'body is not a JSON object');
          return;
        }
        // Unauthenticated, replies go where the activity says: in local mode, only to this machine.
        const offMachine = opts.local ? localServiceUrlRefusal(body) : undefined;
        if (offMachine) {
          opts.log.log('warn', 'teams local-mode activity refused', { reason: 'serviceUrl not on loopback' });
          plain(res, offMachine.status, offMachine.text);
          return;
        }
        // botbuilder answers some token failures (a bad signature) with 500 and the validator's text: decide here.
        const authHeader = req.headers.authorization ?? '';
        const identity = await auth
          .authenticateRequest(body as unknown as Activity, authHeader)
          .catch((err: unknown) => {
            opts.log.log('warn', 'teams request unauthenticated', errorFields(err));
            return undefined;
          });
        if (!identity) {
          plain(res, 401, 'unauthorized');
          return;
        }
        // A valid token proves the Bot Framework sent it, not that it is our tenant or that replies stay with Teams.
        const refused = authenticated ? activityRefusal(body, allow) : undefined;
        if (refused) {
          opts.log.log('warn', 'teams activity refused', { reason: refused });
          plain(res, 403, 'forbidden');
          return;
        }
        const request: Request = { body, headers: req.headers, method: 'POST' };
        await adapter.process(request, expressLike(res, opts.log), onTurn);
        if (!res.writableEnded) res.end();
        return;
      }
      const m = /^\/evidence\/([0-9a-f]{64})\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        const [, sha = '', rawName = ''] = m;
        const name = decodeURIComponent(rawName);
        const verdict = links.verify(sha, name, url.searchParams.get('exp') ?? '', url.searchParams.get('sig') ?? '');
        if (verdict !== 'ok') {
          res
            .writeHead(403, { 'content-type': 'text/plain' })
            .end(
              verdict === 'expired'
                ? 'this evidence link has expired; ask the bot for the check again or use lbcheck audit export'
                : 'this evidence link is not valid',
            );
          return;
        }
        const data = await opts.evidence(sha);
        if (!data) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('this evidence is no longer stored (retention)');
          return;
        }
        res.writeHead(200, {
          'content-type': evidenceContentType(name),
          'x-content-type-options': 'nosniff',
          'content-disposition': `attachment; filename="${name.replace(/"/g, '')}"`,
          'x-sha256': sha,
        });
        res.end(data);
        return;
      }
      res.writeHead(404).end();
    })().catch((err: unknown) => {
      opts.log.log('error', 'teams http handler failed', { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.local) server.listen(opts.port, '127.0.0.1', resolve);
    else server.listen(opts.port, resolve);
  });
  const address = server.address() as AddressInfo;
  const port = address.port;
  boundPort = port;
  if (!authenticated)
    opts.log.log('warn', 'Teams runs UNAUTHENTICATED (TEAMS_LOCAL=1): listening on 127.0.0.1 only, for local use', {
      port,
    });
  if (!opts.publicUrl) links = evidenceLinks(`http://127.0.0.1:${port}`, opts.linkSecret, opts.linkTtlSeconds);
  return {
    poster: new TeamsPoster(adapter, opts.appId, links),
    port,
    host: address.address,
    authenticated,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
