// Teams configuration from the environment (Bot Framework's variable names).
// Two modes, never one by accident: authenticated (an app id, a tenant
// allow-list, the Connector hosts replies may go to, a public URL for evidence
// links) or local (TEAMS_LOCAL=1: no authentication, loopback only, for the
// Bot Framework Emulator).
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/errors.js';

export interface TeamsEnv {
  appId: string;
  appPassword: string;
  tenantId?: string;
  appType?: string;
  port: number;
  /** Local mode: no app id, no authentication, listening on 127.0.0.1 only. Only when asked for explicitly. */
  local?: boolean;
  /** Tenants whose activities are accepted (authenticated mode). */
  allowedTenants?: string[];
  /** Hosts an activity's serviceUrl may name: replies go there (authenticated mode). "*.example.com" matches subdomains. */
  serviceUrlHosts?: string[];
  /** Bot Framework's OpenID metadata (BotOpenIdMetadata): sovereign or private clouds; tests point it at a local issuer. */
  openIdMetadataUrl?: string;
  /** How chat users reach this bot's HTTP server, for evidence links. */
  publicUrl?: string;
  /** HMAC key for evidence links. */
  linkSecret: string;
  linkTtlSeconds: number;
}

/** Teams' own Connector service; other clouds (GCC, DoD) add theirs through LBCHECK_TEAMS_SERVICE_HOSTS. */
export const DEFAULT_SERVICE_URL_HOSTS = ['smba.trafficmanager.net'];

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function authProblems(env: NodeJS.ProcessEnv, tenants: string[]): string[] {
  const problems: string[] = [];
  if (!env.MicrosoftAppPassword && env.MicrosoftAppType !== 'UserAssignedMSI')
    problems.push('MicrosoftAppPassword is required with MicrosoftAppId');
  if (env.MicrosoftAppType && !['MultiTenant', 'SingleTenant', 'UserAssignedMSI'].includes(env.MicrosoftAppType))
    problems.push('MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI');
  if (env.MicrosoftAppType === 'SingleTenant' && !env.MicrosoftAppTenantId)
    problems.push('MicrosoftAppTenantId is required for SingleTenant');
  if (tenants.length === 0)
    problems.push(
      'LBCHECK_TEAMS_TENANTS must list the tenant ids whose users may use the bot (comma-separated; SingleTenant defaults to MicrosoftAppTenantId)',
    );
  // Links to 127.0.0.1 are useless to a Teams user: refuse rather than post cards nobody can open.
  if (!env.LBCHECK_PUBLIC_URL)
    problems.push('LBCHECK_PUBLIC_URL is required with MicrosoftAppId: the https URL Teams users reach this bot at');
  if (env.TEAMS_LOCAL === '1')
    problems.push('TEAMS_LOCAL=1 (unauthenticated local mode) cannot be combined with MicrosoftAppId');
  return problems;
}

/** Undefined when Teams is not configured (neither TEAMS_PORT nor MicrosoftAppId nor TEAMS_LOCAL). */
export function teamsOptionsFromEnv(env: NodeJS.ProcessEnv): TeamsEnv | undefined {
  if (!env.MicrosoftAppId && !env.TEAMS_PORT && !env.TEAMS_LOCAL) return undefined;
  const local = !env.MicrosoftAppId && env.TEAMS_LOCAL === '1';
  const tenants = list(env.LBCHECK_TEAMS_TENANTS);
  if (tenants.length === 0 && env.MicrosoftAppType === 'SingleTenant' && env.MicrosoftAppTenantId)
    tenants.push(env.MicrosoftAppTenantId);
  const problems: string[] = [];
  if (env.MicrosoftAppId) problems.push(...authProblems(env, tenants));
  else if (!local)
    // A missing app id must never turn the bot into an open one.
    problems.push(
      'MicrosoftAppId is not set: set MicrosoftAppId and MicrosoftAppPassword for Teams, or TEAMS_LOCAL=1 for the unauthenticated local mode (Bot Framework Emulator, 127.0.0.1 only)',
    );
  const port = Number(env.TEAMS_PORT ?? 3978);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('TEAMS_PORT must be a port number');
  if (env.LBCHECK_PUBLIC_URL && !/^https?:\/\/[^\s]+$/.test(env.LBCHECK_PUBLIC_URL))
    problems.push('LBCHECK_PUBLIC_URL must be the http(s) URL chat users reach this bot at');
  if (env.BotOpenIdMetadata && !/^https?:\/\/[^\s]+$/.test(env.BotOpenIdMetadata))
    problems.push('BotOpenIdMetadata must be an http(s) URL');
  if (problems.length > 0) throw new ConfigError(`Teams configuration: ${problems.join('; ')}`);
  const hosts = list(env.LBCHECK_TEAMS_SERVICE_HOSTS);
  return {
    appId: env.MicrosoftAppId ?? '',
    appPassword: env.MicrosoftAppPassword ?? '',
    ...(env.MicrosoftAppTenantId ? { tenantId: env.MicrosoftAppTenantId } : {}),
    ...(env.MicrosoftAppType ? { appType: env.MicrosoftAppType } : {}),
    port,
    ...(local
      ? { local: true }
      : { allowedTenants: tenants, serviceUrlHosts: hosts.length > 0 ? hosts : DEFAULT_SERVICE_URL_HOSTS }),
    ...(env.BotOpenIdMetadata ? { openIdMetadataUrl: env.BotOpenIdMetadata } : {}),
    ...(env.LBCHECK_PUBLIC_URL ? { publicUrl: env.LBCHECK_PUBLIC_URL } : {}),
    // Without a configured key, links stay valid only for this process's life.
    linkSecret: env.LBCHECK_LINK_SECRET ?? randomBytes(32).toString('hex'),
    linkTtlSeconds: Number(env.LBCHECK_LINK_TTL_SECONDS ?? 7 * 24 * 3600),
  };
}
