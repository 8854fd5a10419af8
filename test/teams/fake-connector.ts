// A local stand-in for the Bot Framework connector (Teams' serviceUrl):
// records every activity the bot sends and can answer 429/500 on demand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentActivity {
  conversationId: string;
  replyToId?: string;
  /** The id the connector gave the activity. */
  id?: string;
  activity: {
    type?: string;
    text?: string;
    summary?: string;
    attachments?: { contentType: string; content: Record<string, unknown> }[];
  };
}

export class FakeConnector {
  readonly sent: SentActivity[] = [];
  /** Activities replaced (updateActivity): replyToId is the id of the activity replaced. */
  readonly updates: SentActivity[] = [];
  /** With n > 0, every n-th call (send or update) answers 429 with Retry-After: 0. */
  failEvery = 0;
  /** Added before every answer (send, update or failure): a real connector's round trip, e.g. 100 ms for the bench. */
  latencyMs = 0;
  private calls = 0;
  readonly failures: { status: number; retryAfter?: number }[] = [];
  /** Called as each activity arrives, before it is answered (a test looks at the world then). */
  onSent: ((s: SentActivity) => void) | undefined;
  private server: Server | undefined;
  private seq = 0;
  port = 0;

  get serviceUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  failNext(status: number, retryAfter?: number): void {
    this.failures.push({ status, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.latencyMs > 0) setTimeout(() => this.answer(req, res, chunks), this.latencyMs);
        else this.answer(req, res, chunks);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  private answer(req: IncomingMessage, res: ServerResponse, chunks: Buffer[]): void {
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
    // POST sends an activity; PUT /activities/<id> replaces one (updateActivity).
    if (!m || (req.method !== 'POST' && !(req.method === 'PUT' && m[2]))) {
      res.writeHead(404).end();
      return;
    }
    this.calls++;
    const fail =
      this.failures.shift() ??
      (this.failEvery > 0 && this.calls % this.failEvery === 0 ? { status: 429, retryAfter: 0 } : undefined);
    if (fail) {
      res.writeHead(fail.status, {
        'content-type': 'application/json',
        ...(fail.retryAfter !== undefined ? { 'retry-after': String(fail.retryAfter) } : {}),
      });
      res.end(
        JSON.stringify({
          error: { code: fail.status === 429 ? 'Throttled' : 'ServiceError', message: 'injected' },
        }),
      );
      return;
    }
    if (req.method === 'PUT') {
      this.updates.push({
        conversationId: decodeURIComponent(m[1] ?? ''),
        replyToId: decodeURIComponent(m[2] ?? ''),
        activity: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as SentActivity['activity'],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: m[2] }));
      return;
    }
    const entry: SentActivity = {
      conversationId: decodeURIComponent(m[1] ?? ''),
      activity: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as SentActivity['activity'],
    };
    if (m[2]) entry.replyToId = decodeURIComponent(m[2]);
    entry.id = `reply-${++this.seq}`;
    this.sent.push(entry);
    this.onSent?.(entry);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: entry.id }));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
