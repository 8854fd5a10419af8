// Teams configuration from the environment (Bot Framework's variable names).
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/errors.js';

export interface TeamsEnv {
  appId: string;
  appPassword: string;
  tenantId?: string;
  appType?: string;
  port: number;
  /** How chat users reach this bot's HTTP server, for evidence links. */
  publicUrl?: string;
  /** HMAC key for evidence links. */
  linkSecret: string;
  linkTtlSeconds: number;
}

/** Undefined when Teams is not configured (neither TEAMS_PORT nor MicrosoftAppId). */
export function teamsOptionsFromEnv(env: NodeJS.ProcessEnv): TeamsEnv | undefined {
  if (!env.MicrosoftAppId && !env.TEAMS_PORT) return undefined;
  const problems: string[] = [];
  if (env.MicrosoftAppId && !env.MicrosoftAppPassword && env.MicrosoftAppType !== 'UserAssignedMSI')
    problems.push('MicrosoftAppPassword is required with MicrosoftAppId');
  if (env.MicrosoftAppType && !['MultiTenant', 'SingleTenant', 'UserAssignedMSI'].includes(env.MicrosoftAppType))
    problems.push('MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI');
  if (env.MicrosoftAppType === 'SingleTenant' && !env.MicrosoftAppTenantId)
    problems.push('MicrosoftAppTenantId is required for SingleTenant');
  const port = Number(env.TEAMS_PORT ?? 3978);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('TEAMS_PORT must be a port number');
  if (env.LBCHECK_PUBLIC_URL && !/^https?:\/\/[^\s]+$/.test(env.LBCHECK_PUBLIC_URL))
    problems.push('LBCHECK_PUBLIC_URL must be the http(s) URL chat users reach this bot at');
  if (problems.length > 0) throw new ConfigError(`Teams configuration: ${problems.join('; ')}`);
  return {
    appId: env.MicrosoftAppId ?? '',
    appPassword: env.MicrosoftAppPassword ?? '',
    ...(env.MicrosoftAppTenantId ? { tenantId: env.MicrosoftAppTenantId } : {}),
    ...(env.MicrosoftAppType ? { appType: env.MicrosoftAppType } : {}),
    port,
    ...(env.LBCHECK_PUBLIC_URL ? { publicUrl: env.LBCHECK_PUBLIC_URL } : {}),
    // Without a configured key, links stay valid only for this process's life.
    linkSecret: env.LBCHECK_LINK_SECRET ?? randomBytes(32).toString('hex'),
    linkTtlSeconds: Number(env.LBCHECK_LINK_TTL_SECONDS ?? 7 * 24 * 3600),
  };
}
