// The Teams platform on botbuilder's CloudAdapter: Activities POSTed to
// /api/messages (authenticated as Bot Framework requires when an app id is
// configured), commands by @mention in a channel or in a personal chat, the
// answer in the same reply chain at once; and the signed evidence downloads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Request,
  type Response,
} from 'botbuilder';
import type { Logger } from '../../src/log.js';
import type { Incoming, IntakeReply } from '../../src/pipeline/intake.js';
import { evidenceContentType } from './card-image.js';
import { evidenceLinks } from './evidence-links.js';
import type { TeamsEnv } from './teams-env.js';
import { TeamsPoster } from './teams-poster.js';

export interface TeamsOptions extends TeamsEnv {
  evidence: (sha256: string) => Promise<Buffer | undefined>;
  intake: (incoming: Incoming) => Promise<IntakeReply>;
  log: Logger;
}

export interface RunningTeams {
  poster: TeamsPoster;
  port: number;
  authenticated: boolean;
  close(): Promise<void>;
}

/** botbuilder expects an express-like response. */
function expressLike(res: ServerResponse): Response {
  return {
    socket: res.socket,
    header: (name: string, value: unknown) => res.setHeader(name, String(value)),
    status: (code: number) => {
      res.statusCode = code;
    },
    send: (body?: unknown) => {
      if (body !== undefined && !res.headersSent && typeof body === 'object')
        res.setHeader('content-type', 'application/json');
      if (body === undefined || body === null) return;
      res.write(typeof body === 'string' ? body : JSON.stringify(body));
    },
    end: () => res.end(),
  };
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

export async function startTeams(opts: TeamsOptions): Promise<RunningTeams> {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: opts.appId,
    MicrosoftAppPassword: opts.appPassword,
    ...(opts.tenantId ? { MicrosoftAppTenantId: opts.tenantId } : {}),
    ...(opts.appType ? { MicrosoftAppType: opts.appType } : {}),
  });
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (turn, err) => {
    opts.log.log('error', 'teams turn failed', { error: err.message });
    await turn
      .sendActivity('lbcheck hit an internal error handling that; the details are in its log.')
      .catch(() => undefined);
  };
  let links = evidenceLinks(opts.publicUrl ?? '', opts.linkSecret, opts.linkTtlSeconds);

  const onMessage = async (turn: TurnContext): Promise<void> => {
    const a = turn.activity;
    if (a.type !== 'message') return;
    const text = (TurnContext.removeRecipientMention(a) ?? a.text ?? '').replace(/^\s*lbcheck\b\s*/i, '').trim();
    const words = text.split(/\s+/);
    // "@lbcheck check web-vip" and "@lbcheck web-vip" both run a check.
    const command = words[0] === 'check' ? words.slice(1).join(' ') : text;
    // A channel message carries its team: whoever posts there is a member of that team (policy "teams:<team id>").
    const team = (a.channelData as { team?: { id?: string; aadGroupId?: string } } | undefined)?.team;
    const groups = [team?.id, team?.aadGroupId].filter((g): g is string => typeof g === 'string' && g !== '');
    const reply = await opts.intake({
      requester: { platform: 'teams', id: a.from.aadObjectId ?? a.from.id, name: a.from.name, groups },
      // The policy names channels; a channel thread's conversation id adds ";messageid=…" for the reply chain.
      replyTo: {
        platform: 'teams',
        channel: a.conversation.id.split(';')[0] ?? a.conversation.id,
        extra: { reference: TurnContext.getConversationReference(a) },
      },
      text: command,
    });
    await turn.sendActivity(reply.kind === 'refused' ? `❌ ${reply.text}` : reply.text);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://bot');
      if (req.method === 'POST' && url.pathname === '/api/messages') {
        const body = await readJson(req).catch(() => undefined);
        if (!body) {
          res.writeHead(400).end('body is not JSON');
          return;
        }
        const request: Request = { body, headers: req.headers, method: 'POST' };
        await adapter.process(request, expressLike(res), onMessage);
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
  await new Promise<void>((resolve) => server.listen(opts.port, resolve));
  const port = (server.address() as AddressInfo).port;
  if (!opts.publicUrl) links = evidenceLinks(`http://127.0.0.1:${port}`, opts.linkSecret, opts.linkTtlSeconds);
  return {
    poster: new TeamsPoster(adapter, opts.appId, links),
    port,
    authenticated: opts.appId !== '',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
