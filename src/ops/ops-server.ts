// The operators' HTTP port, one per process (bot side and each worker):
// /metrics (Prometheus), /healthz (the process answers), /readyz (its
// dependencies work) and, on the bot side with LBCHECK_ADMIN_TOKEN set, the
// queue dashboard. Separate from the chat-facing ports, 127.0.0.1 by default.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { RateLimitedErrors } from '../runtime/redis-health.js';
import { adminAuthorized } from './admin-auth.js';
import { enableProcessMetrics, registry } from './metrics.js';
import { DASHBOARD_PATH, type RequestHandler } from './queue-dashboard.js';
import { runProbe, type ProbeResult, type ReadinessProbe } from './readiness.js';

export interface OpsServerOptions {
  host: string;
  /** 0: any free port (tests); the bound one is in RunningOps.port. */
  port: number;
  /** Named in every /healthz and /readyz answer ("start", "serve", "worker"). */
  process: string;
  readiness: Record<string, ReadinessProbe>;
  /** BullMQ's queue gauges, appended to /metrics. */
  queueMetrics?: () => Promise<string>;
  dashboard?: { handler: RequestHandler; token: string };
  log: Logger;
  probeTimeoutMs?: number;
}

export interface RunningOps {
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readiness(opts: OpsServerOptions): Promise<{ ready: boolean; checks: Record<string, ProbeResult> }> {
  const names = Object.keys(opts.readiness);
  const results = await Promise.all(
    names.map((n) => runProbe(opts.readiness[n] as ReadinessProbe, opts.probeTimeoutMs ?? 2000)),
  );
  const checks = Object.fromEntries(names.map((n, i) => [n, results[i] as ProbeResult]));
  return { ready: results.every((r) => r.ok), checks };
}

async function metricsText(opts: OpsServerOptions, errors: RateLimitedErrors): Promise<string> {
  const own = await registry.metrics();
  if (!opts.queueMetrics) return own;
  let timer: NodeJS.Timeout | undefined;
  // BullMQ waits for a connection that is not there; a scrape must not.
  const late = new Promise<never>((_, reject) => {
    const ms = opts.probeTimeoutMs ?? 2000;
    timer = setTimeout(() => reject(new Error(`the queues did not answer within ${ms} ms (Redis down?)`)), ms);
  });
  try {
    return `${own}${await Promise.race([opts.queueMetrics(), late])}`;
  } catch (err) {
    // The process's own metrics still matter (and say more) while Redis is away.
    errors.error('queue metrics', err);
    return (
      `${own}# queue metrics unavailable: ` +
      `${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ')}\n`
    );
  } finally {
    clearTimeout(timer);
  }
}

function route(opts: OpsServerOptions, errors: RateLimitedErrors) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`)) {
      if (!opts.dashboard) return json(res, 404, { error: 'the queue dashboard is off: set LBCHECK_ADMIN_TOKEN' });
      if (!adminAuthorized(req.headers, opts.dashboard.token))
        return json(
          res,
          401,
          { error: 'the queue dashboard needs LBCHECK_ADMIN_TOKEN as a bearer token or as the Basic auth password' },
          { 'www-authenticate': 'Basic realm="lbcheck admin", charset="UTF-8"' },
        );
      return opts.dashboard.handler(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
    if (path === '/metrics') {
      const body = await metricsText(opts, errors);
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
      return;
    }
    if (path === '/healthz')
      return json(res, 200, {
        status: 'ok',
        process: opts.process,
        pid: process.pid,
        uptimeSeconds: Math.round(process.uptime()),
      });
    if (path === '/readyz') {
      const { ready, checks } = await readiness(opts);
      return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', process: opts.process, checks });
    }
    json(res, 404, {
      error: `no ${path} here: try /metrics, /healthz, /readyz${opts.dashboard ? `, ${DASHBOARD_PATH}` : ''}`,
    });
  };
}

export async function startOpsServer(opts: OpsServerOptions): Promise<RunningOps> {
  enableProcessMetrics();
  const errors = new RateLimitedErrors(opts.log);
  const handle = route(opts, errors);
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      errors.error('ops endpoint', err);
      if (!res.headersSent) json(res, 500, { error: 'internal error; see the log' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `the metrics port ${opts.host}:${opts.port} is in use`,
              'set LBCHECK_METRICS_PORT to a free port (0: any)',
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    host: opts.host,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
