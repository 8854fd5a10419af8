// Starts a process's ops port as its configuration says, and says where it is.
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OpsConfig } from './ops-config.js';
import { startOpsServer, type OpsServerOptions, type RunningOps } from './ops-server.js';

export type OpsParts = Omit<OpsServerOptions, 'host' | 'port' | 'log'>;

/**
 * undefined when off (no port configured) or when the default port is taken
 * (another lbcheck on this host): the process runs on, and logs a warning.
 */
export async function startOps(config: OpsConfig, parts: OpsParts, log: Logger): Promise<RunningOps | undefined> {
  if (config.port === undefined) return undefined;
  try {
    const ops = await startOpsServer({ ...parts, host: config.host, port: config.port, log });
    log.log('info', 'ops endpoints listening', {
      url: ops.url,
      endpoints: ['/metrics', '/healthz', '/readyz', ...(parts.dashboard ? ['/admin/queues'] : [])],
    });
    return ops;
  } catch (err) {
    if (config.portExplicit || !(err instanceof ConfigError)) throw err;
    log.log('warn', `the default metrics port ${config.host}:${config.port} is in use: no metrics in this process`, {
      hint: 'set LBCHECK_METRICS_PORT to a free port (0: any) or off',
    });
    return undefined;
  }
}

export function describeOps(ops: RunningOps | undefined, config: OpsConfig, dashboard: boolean): string {
  if (!ops)
    return config.port === undefined
      ? 'metrics: off (set LBCHECK_METRICS_PORT)'
      : `metrics: off (port ${config.port} in use; set LBCHECK_METRICS_PORT)`;
  return (
    `metrics: ${ops.url}/metrics · health: /healthz, /readyz · queue dashboard: ` +
    `${dashboard ? `${ops.url}/admin/queues (LBCHECK_ADMIN_TOKEN)` : 'off (set LBCHECK_ADMIN_TOKEN)'}`
  );
}
