// A local stand-in for the Bot Framework connector (Teams' serviceUrl):
// records every activity the bot sends and can answer 429/500 on demand.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentActivity {
  conversationId: string;
  replyToId?: string;
  activity: {
    type?: string;
    text?: string;
    summary?: string;
    attachments?: { contentType: string; content: Record<string, unknown> }[];
  };
}

export class FakeConnector {
  readonly sent: SentActivity[] = [];
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
        const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
        if (!m || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        const fail = this.failures.shift();
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
        const entry: SentActivity = {
          conversationId: decodeURIComponent(m[1] ?? ''),
          activity: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as SentActivity['activity'],
        };
        if (m[2]) entry.replyToId = decodeURIComponent(m[2]);
        this.sent.push(entry);
        this.onSent?.(entry);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `reply-${++this.seq}` }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
