// bull-board, read-only, for operators: what is waiting, running, delayed or
// failed in lbcheck's queues, and why a job failed. Served under
// /admin/queues on the ops port only, and only behind LBCHECK_ADMIN_TOKEN.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';

export const DASHBOARD_PATH = '/admin/queues';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

type ExpressLike = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export function queueDashboard(queues: readonly Queue[]): RequestHandler {
  const server = new ExpressAdapter().setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: 'lbcheck queues' } },
  });
  const app = server.getRouter() as ExpressLike;
  return (req, res) => {
    // The board's routes are relative to where it is mounted; the ops server mounts it by prefix.
    req.url = (req.url ?? '/').slice(DASHBOARD_PATH.length) || '/';
    app(req, res, (err) => {
      if (res.headersSent) return;
      res.writeHead(err ? 500 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err ? 'dashboard failed; see the log' : 'not found' }));
    });
  };
}
