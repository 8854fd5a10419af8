// The Teams bot's HTTP side, as Bolt's HTTPReceiver is Slack's: the server, the local-mode guard, a route list
// (teams-app.ts writes it), and the gate an activity passes before botbuilder sees it: the bearer token, a capped
// body, JSON, where replies would go, the Bot Framework token and the tenant. Callers get statuses and short
// texts; the details go to the log.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activity, ConfigurationBotFrameworkAuthentication, Response } from 'botbuilder';
import { errorFields, type Logger } from '../../src/log.js';
import {
  activityRefusal,
  BodyTooLargeError,
  hasBearerToken,
  localRequestRefusal,
  localServiceUrlRefusal,
  readCappedBody,
  type ActivityAllowList,
} from './teams-request-guard.js';

/** One thing the bot serves: a method and a path pattern, and what answers it. */
export interface TeamsRoute {
  method: string;
  /** Matched against the path (no query); its groups reach `handle`. */
  path: RegExp;
  /** The Bot Framework endpoint: local mode also refuses web pages' requests here (Origin, content type). */
  activities?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, url: URL): Promise<void>;
}

export interface TeamsReceiverOptions {
  port: number;
  /** Local (unauthenticated) mode: listen on 127.0.0.1 only and answer only requests addressed to it. */
  local: boolean;
  routes: readonly TeamsRoute[];
  log: Logger;
}

export interface TeamsReceiver {
  port: number;
  host: string;
  close(): Promise<void>;
}

export function plain(res: ServerResponse, status: number, text: string): void {
  res
    .writeHead(status, { 'content-type': 'text/plain', 'x-content-type-options': 'nosniff', connection: 'close' })
    .end(text);
}

function routeFor(
  routes: readonly TeamsRoute[],
  method: string | undefined,
  url: URL,
): { route: TeamsRoute; match: RegExpExecArray } | undefined {
  for (const route of routes) {
    const match = route.method === method ? route.path.exec(url.pathname) : null;
    if (match) return { route, match };
  }
  return undefined;
}

async function answer(req: IncomingMessage, res: ServerResponse, opts: TeamsReceiverOptions, port: number) {
  const url = new URL(req.url ?? '/', 'http://bot');
  const found = routeFor(opts.routes, req.method, url);
  const localRefused = opts.local ? localRequestRefusal(req, port, found?.route.activities === true) : undefined;
  if (localRefused) {
    opts.log.log('warn', 'teams local-mode request refused', { status: localRefused.status });
    plain(res, localRefused.status, localRefused.text);
    return;
  }
  if (!found) {
    res.writeHead(404).end();
    return;
  }
  await found.route.handle(req, res, found.match, url);
}

/** Starts serving `routes`; anything else is a 404, and a route that throws answers 500 (logged). */
export async function startTeamsReceiver(opts: TeamsReceiverOptions): Promise<TeamsReceiver> {
  let boundPort = 0;
  const server: Server = createServer((req, res) => {
    answer(req, res, opts, boundPort).catch((err: unknown) => {
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
  boundPort = address.port;
  return {
    port: address.port,
    host: address.address,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What an activity must pass before botbuilder sees it. */
export interface ActivityGate {
  auth: Pick<ConfigurationBotFrameworkAuthentication, 'authenticateRequest'>;
  /** An app id is configured: a bearer token is required first, and the tenant allow-list applies. */
  authenticated: boolean;
  local: boolean;
  allow: ActivityAllowList;
  log: Logger;
}

function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(raw.toString('utf8') || '{}') as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The capped body as a JSON object, or undefined once the caller has been answered 413 or 400. */
async function readActivityBody(req: IncomingMessage, res: ServerResponse) {
  let raw: Buffer;
  try {
    raw = await readCappedBody(req);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    plain(res, 413, 'request body too large');
    return undefined;
  }
  const body = parseObject(raw);
  if (!body) plain(res, 400, 'body is not a JSON object');
  return body;
}

/**
 * The activity a request carries once it has passed the gate, or undefined when the caller has already been
 * answered with the refusal.
 */
export async function receiveActivity(
  req: IncomingMessage,
  res: ServerResponse,
  gate: ActivityGate,
): Promise<Record<string, unknown> | undefined> {
  // Before reading a byte of the body: no token, no work.
  if (gate.authenticated && !hasBearerToken(req)) {
    plain(res, 401, 'unauthorized');
    return undefined;
  }
  const body = await readActivityBody(req, res);
  if (!body) return undefined;
  // Unauthenticated, replies go where the activity says: in local mode, only to this machine.
  const offMachine = gate.local ? localServiceUrlRefusal(body) : undefined;
  if (offMachine) {
    gate.log.log('warn', 'teams local-mode activity refused', { reason: 'serviceUrl not on loopback' });
    plain(res, offMachine.status, offMachine.text);
    return undefined;
  }
  // botbuilder answers some token failures (a bad signature) with 500 and the validator's text: decide here.
  const authHeader = req.headers.authorization ?? '';
  const identity = await gate.auth
    .authenticateRequest(body as unknown as Activity, authHeader)
    .catch((err: unknown) => {
      gate.log.log('warn', 'teams request unauthenticated', errorFields(err));
      return undefined;
    });
  if (!identity) {
    plain(res, 401, 'unauthorized');
    return undefined;
  }
  // A valid token proves the Bot Framework sent it, not that it is our tenant or that replies stay with Teams.
  const refused = gate.authenticated ? activityRefusal(body, gate.allow) : undefined;
  if (refused) {
    gate.log.log('warn', 'teams activity refused', { reason: refused });
    plain(res, 403, 'forbidden');
    return undefined;
  }
  return body;
}

/**
 * botbuilder expects an express-like response. It answers a failed
 * authentication with the validator's message (and other failures with
 * theirs): callers get only the status, the details go to the log.
 */
export function expressLike(res: ServerResponse, log: Logger): Response {
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
