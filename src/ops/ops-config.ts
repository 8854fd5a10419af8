// The ops port's settings from the environment, checked at startup like the rest.
import { ConfigError } from '../errors.js';

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
  const problems: string[] = [];
  const raw = env.LBCHECK_METRICS_PORT;
  const portExplicit = raw !== undefined && raw !== '';
  let port = defaultPort;
  if (raw === 'off') port = undefined;
  else if (portExplicit) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      problems.push(`LBCHECK_METRICS_PORT=${JSON.stringify(raw)} must be a port number (0: any free port) or off`);
    else port = n;
  }
  const host = env.LBCHECK_METRICS_HOST && env.LBCHECK_METRICS_HOST !== '' ? env.LBCHECK_METRICS_HOST : '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
    problems.push(
      `LBCHECK_METRICS_HOST=${JSON.stringify(host)} must be an address or host name to listen on (e.g. 0.0.0.0)`,
    );
  const token = env.LBCHECK_ADMIN_TOKEN;
  if (token !== undefined && token !== '' && (token.length < 16 || /\s/.test(token)))
    problems.push('LBCHECK_ADMIN_TOKEN must be at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  if (problems.length > 0) throw new ConfigError(`configuration problems:\n  ${problems.join('\n  ')}`);
  return {
    ...(port !== undefined ? { port } : {}),
    portExplicit: portExplicit && raw !== 'off',
    host,
    ...(token ? { adminToken: token } : {}),
  };
}
