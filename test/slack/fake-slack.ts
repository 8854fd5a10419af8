// A local stand-in for the Slack Web API: records every call (method, form
// fields, uploaded bytes) and can answer 429 (with Retry-After) or 500 on
// demand. Real Bolt and WebClient talk to it over HTTP.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeSocket } from './fake-socket.js';

export interface SlackCall {
  method: string;
  args: Record<string, string>;
  /** performance.now() when the call arrived and when it was answered (the bench's breakdown of where time goes). */
  arrivedAt?: number;
  answeredAt?: number;
}

/** One upload of file bytes to the URL files.getUploadURLExternal handed out. */
export interface SlackUpload {
  fileId: string;
  arrivedAt: number;
  answeredAt: number;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** The file part of a multipart body, or the raw body. */
function uploadedBytes(req: IncomingMessage, body: Buffer): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(req.headers['content-type'] ?? '');
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return body;
  const sep = Buffer.from(`--${boundary}`);
  const start = body.indexOf(sep);
  const headerEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd);
  return body.subarray(headerEnd + 4, end);
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly socket = new FakeSocket();
  /** Slack user groups and their members, as usergroups.users.list answers. */
  readonly userGroups = new Map<string, string[]>([['S0NETOPS', ['U0INGROUP']]]);
  readonly uploads = new Map<string, Buffer>();
  /** Every upload in arrival order, a file id once per upload (a file uploaded twice shows twice). */
  readonly uploadLog: SlackUpload[] = [];
  /** Channels the bot is not a member of: posts there answer not_in_channel, as Slack does. */
  readonly notInChannel = new Set<string>();
  /** Messages POSTed to a slash command's response_url (http://<fake>/respond...). */
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];
  private failures: { method: string; status: number; retryAfter?: number }[] = [];
  /** Added before every Web API answer and upload (a real Slack's round trip, e.g. 100 ms for the bench). */
  latencyMs = 0;
  /** Per method: answer after this long (e.g. a slow usergroups.users.list). */
  readonly delays = new Map<string, number>();
  /** Called as a Web API call is answered (after its delay), with its method. */
  onAnswer: ((method: string) => void) | undefined;
  /** Called as each successful Web API call arrives, before it is answered (a test looks at the world then). */
  onCall: ((call: SlackCall) => void) | undefined;
  private server: Server | undefined;
  private ts = 1_700_000_000;
  private fileSeq = 0;
  port = 0;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** The next call of `method` ('upload': the next upload of bytes) is answered with `status` (429 carries Retry-After). */
  failNext(method: string, status: number, retryAfter?: number): void {
    this.failures.push({ method, status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The ts of a check's parent message (ts values are handed out in order of successful postMessage calls). */
  parentTs(checkId: string): string | undefined {
    const parent = this.callsOf('chat.postMessage').findIndex(
      (c) => !c.args.thread_ts && (c.args.text ?? '').includes(checkId),
    );
    return parent < 0 ? undefined : `${1_700_000_000 + parent}.000100`;
  }

  /**
   * The messages in a thread, in the order Slack answered them: chat.postMessage replies and file shares
   * (files.completeUploadExternal) that carry a message of their own (blocks or initial_comment); a share
   * without one adds its files to the thread without a message.
   */
  threadCalls(ts: string): SlackCall[] {
    return this.calls.filter(
      (c) =>
        c.args.thread_ts === ts &&
        (c.method === 'chat.postMessage' ||
          (c.method === 'files.completeUploadExternal' && (c.args.blocks ?? c.args.initial_comment) !== undefined)),
    );
  }

  /** What each message in a check's thread shows, in block order (sectionsOf). */
  threadSectionsOf(checkId: string): string[] {
    const ts = this.parentTs(checkId);
    return ts === undefined ? [] : this.threadCalls(ts).map(messageSections);
  }

  /** The texts posted in the thread of a check's parent message (empty until the parent exists). */
  threadOf(checkId: string): string[] {
    const ts = this.parentTs(checkId);
    return ts === undefined ? [] : this.threadCalls(ts).map(messageText);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void (async () => {
        const arrivedAt = performance.now();
        const body = await readBody(req);
        const url = req.url ?? '';
        if (url.startsWith('/upload/')) {
          if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
          // failNext('upload', status): the next upload of bytes fails and is not kept.
          const fail = this.failures.findIndex((f) => f.method === 'upload');
          if (fail >= 0) {
            res.writeHead(this.failures.splice(fail, 1)[0]?.status ?? 500).end('failed');
            return;
          }
          const fileId = url.slice('/upload/'.length);
          this.uploads.set(fileId, uploadedBytes(req, body));
          this.uploadLog.push({ fileId, arrivedAt, answeredAt: performance.now() });
          res.writeHead(200).end('OK');
          return;
        }
        if (url.startsWith('/respond')) {
          this.responses.push({ path: url, body: JSON.parse(body.toString() || '{}') as Record<string, unknown> });
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const method = url.replace(/^\/api\//, '').split('?')[0] ?? '';
        const wait = this.latencyMs + (this.delays.get(method) ?? 0);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const type = req.headers['content-type'] ?? '';
        const args: Record<string, string> = type.includes('json')
          ? Object.fromEntries(
              Object.entries(JSON.parse(body.toString() || '{}') as Record<string, unknown>).map(([k, v]) => [
                k,
                typeof v === 'string' ? v : JSON.stringify(v),
              ]),
            )
          : Object.fromEntries(new URLSearchParams(body.toString()));
        const fail = this.failures.findIndex((f) => f.method === method);
        if (fail >= 0) {
          const f = this.failures.splice(fail, 1)[0];
          res.writeHead(f?.status ?? 500, {
            'content-type': 'application/json',
            ...(f?.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}),
          });
          res.end(JSON.stringify({ ok: false, error: f?.status === 429 ? 'ratelimited' : 'internal_error' }));
          this.calls.push({
            method: `${method} (failed ${f?.status})`,
            args,
            arrivedAt,
            answeredAt: performance.now(),
          });
          return;
        }
        if (method === 'chat.postMessage' && this.notInChannel.has(args.channel ?? '')) {
          // Recorded apart, so the ts arithmetic of successful posts (threadOf) stays right.
          this.calls.push({ method: `${method} (not_in_channel)`, args, arrivedAt, answeredAt: performance.now() });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error: 'not_in_channel' }));
          return;
        }
        this.calls.push({ method, args, arrivedAt, answeredAt: performance.now() });
        this.onCall?.({ method, args });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.answer(method, args)));
        this.onAnswer?.(method);
      })();
    });
    this.server.on('upgrade', (req, sock) => this.socket.accept(req, sock));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  private answer(method: string, args: Record<string, string>): Record<string, unknown> {
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/socket` };
      case 'usergroups.users.list':
        return { ok: true, users: this.userGroups.get(args.usergroup ?? '') ?? [] };
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', team_id: 'T0LAB', bot_id: 'B0LAB', url: 'https://lab.slack.test/' };
      case 'chat.postMessage':
        return { ok: true, channel: args.channel, ts: `${this.ts++}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'files.getUploadURLExternal': {
        const id = `F${String(++this.fileSeq).padStart(6, '0')}`;
        return { ok: true, file_id: id, upload_url: `http://127.0.0.1:${this.port}/upload/${id}` };
      }
      case 'files.completeUploadExternal': {
        const files = JSON.parse(args.files ?? '[]') as { id: string; title?: string }[];
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  close(): Promise<void> {
    this.socket.close();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * What a thread message says: a post's text; for a file share with blocks, its first section as lbcheck's
 * posts word their text ("*headline*\nwhy" → "headline: why"), else its initial_comment.
 */
export function messageText(c: SlackCall): string {
  if (c.args.text !== undefined) return c.args.text;
  if (c.args.blocks !== undefined && c.args.initial_comment === undefined) {
    const blocks = JSON.parse(c.args.blocks) as { type: string; text?: { text?: string } }[];
    const first = blocks.find((b) => b.type === 'section')?.text?.text ?? '';
    const m = /^\*([^\n]*)\*\n([\s\S]*)$/.exec(first);
    return m ? `${m[1] ?? ''}: ${m[2] ?? ''}` : first;
  }
  return c.args.initial_comment ?? '';
}

/** A section's text as messageText words lbcheck's posts: "*headline*\nwhy" → "headline: why". */
function sectionWords(text: string): string {
  const m = /^\*([^\n]*)\*\n([\s\S]*)$/.exec(text);
  return m ? `${m[1] ?? ''}: ${m[2] ?? ''}` : text;
}

/**
 * What a message shows, in block order: each section worded as messageText words a post's first, one after
 * another (a check's last step and its diagnosis may be one message). Without blocks, its text.
 */
export function sectionsOf(blocks: unknown, text = ''): string {
  if (!Array.isArray(blocks)) return text;
  const sections = (blocks as { type?: string; text?: { text?: string } }[])
    .filter((b) => b.type === 'section' && typeof b.text?.text === 'string')
    .map((b) => sectionWords(b.text?.text ?? ''));
  return sections.length ? sections.join('\n') : text;
}

/** sectionsOf a thread message. */
export function messageSections(c: SlackCall): string {
  return c.args.blocks === undefined ? messageText(c) : sectionsOf(JSON.parse(c.args.blocks), messageText(c));
}

/** Headers Slack sends with a request: v0 HMAC-SHA256 signature over "v0:<timestamp>:<body>". */
export function slackSignature(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const sig = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${sig}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
}

let triggers = 0;

/**
 * The form body of a /lbcheck slash command as Slack posts it, its response_url on the fake. Each has its own
 * trigger_id, as Slack's do: two identical commands in one second are two requests, not a replay.
 */
export function slashCommandForm(
  text: string,
  fakePort: number,
  over: { channel?: string; user?: string } = {},
): string {
  return new URLSearchParams({
    token: 'legacy',
    team_id: 'T0LAB',
    team_domain: 'lab',
    channel_id: over.channel ?? 'C0INCIDENT',
    channel_name: 'incident',
    user_id: over.user ?? 'U0ONCALL',
    user_name: 'oncall',
    command: '/lbcheck',
    text,
    api_app_id: 'A0LAB',
    response_url: `http://127.0.0.1:${fakePort}/respond`,
    trigger_id: `${++triggers}.2.3`,
  }).toString();
}
