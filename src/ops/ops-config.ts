// The ops port's settings from the environment, checked at startup like the rest.
import { opsSchema, parseEnv } from '../runtime/settings.js';

export interface OpsConfig {
  /** undefined: no ops port in this process. */
  port?: number;
  /** LBCHECK_METRICS_PORT was set: then a port in use is fatal; a busy default port only turns metrics off. */
  portExplicit: boolean;
  host: string;
  /** LBCHECK_ADMIN_TOKEN: the queue dashboard is served only with it, and only to requests carrying it. */
  adminToken?: string;
}

export const DEFAULT_METRICS_PORT = 9464;

/**
 * `defaultPort`: 9464 for start/serve; undefined for workers, which run several
 * to a host and so get a port only when LBCHECK_METRICS_PORT names one.
 */
export function readOpsConfig(env: NodeJS.ProcessEnv, defaultPort: number | undefined): OpsConfig {
  const s = parseEnv(opsSchema, env, 'configuration problems');
  const port = s.LBCHECK_METRICS_PORT === 'off' ? undefined : (s.LBCHECK_METRICS_PORT ?? defaultPort);
  return {
    ...(port !== undefined ? { port } : {}),
    portExplicit: typeof s.LBCHECK_METRICS_PORT === 'number',
    host: s.LBCHECK_METRICS_HOST,
    ...(s.LBCHECK_ADMIN_TOKEN !== undefined ? { adminToken: s.LBCHECK_ADMIN_TOKEN } : {}),
  };
}
