// Teams configuration from the environment (Bot Framework's variable names).
// Two modes, never one by accident: authenticated (an app id, a tenant
// allow-list, the Connector hosts replies may go to, a public URL for evidence
// links) or local (TEAMS_LOCAL=1: no authentication, loopback only, for the
// Bot Framework Emulator).
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/errors.js';
import { parseEnv, teamsSchema, type TeamsSettings } from '../../src/runtime/settings.js';

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
  /**
   * Hosts an activity's serviceUrl may name: replies go there (authenticated mode). "*.example.com" matches
   * subdomains.
   */
  serviceUrlHosts?: string[];
  /**
   * Bot Framework's OpenID metadata (BotOpenIdMetadata): sovereign or private clouds; tests point it at a local
   * issuer.
   */
  openIdMetadataUrl?: string;
  /** How chat users reach this bot's HTTP server, for evidence links. */
  publicUrl?: string;
  /** HMAC key for evidence links. */
  linkSecret: string;
  linkTtlSeconds: number;
}

/** Teams' own Connector service; other clouds (GCC, DoD) add theirs through LBCHECK_TEAMS_SERVICE_HOSTS. */
export const DEFAULT_SERVICE_URL_HOSTS = ['smba.trafficmanager.net'];

function authProblems(s: TeamsSettings, tenants: string[]): string[] {
  const problems: string[] = [];
  if (!s.MicrosoftAppPassword && s.MicrosoftAppType !== 'UserAssignedMSI')
    problems.push('MicrosoftAppPassword is required with MicrosoftAppId');
  if (s.MicrosoftAppType === 'SingleTenant' && !s.MicrosoftAppTenantId)
    problems.push('MicrosoftAppTenantId is required for SingleTenant');
  if (tenants.length === 0)
    problems.push(
      'LBCHECK_TEAMS_TENANTS must list the tenant ids whose users may use the bot ' +
        '(comma-separated; SingleTenant defaults to MicrosoftAppTenantId)',
    );
  // Links to 127.0.0.1 are useless to a Teams user: refuse rather than post cards nobody can open.
  if (!s.LBCHECK_PUBLIC_URL)
    problems.push('LBCHECK_PUBLIC_URL is required with MicrosoftAppId: the https URL Teams users reach this bot at');
  if (s.TEAMS_LOCAL === '1')
    problems.push('TEAMS_LOCAL=1 (unauthenticated local mode) cannot be combined with MicrosoftAppId');
  return problems;
}

/** Undefined when Teams is not configured (neither TEAMS_PORT nor MicrosoftAppId nor TEAMS_LOCAL). */
export function teamsOptionsFromEnv(env: NodeJS.ProcessEnv): TeamsEnv | undefined {
  const s = parseEnv(teamsSchema, env, 'Teams configuration');
  if (!s.MicrosoftAppId && !env.TEAMS_PORT && !s.TEAMS_LOCAL) return undefined;
  const local = !s.MicrosoftAppId && s.TEAMS_LOCAL === '1';
  const tenants = [...s.LBCHECK_TEAMS_TENANTS];
  if (tenants.length === 0 && s.MicrosoftAppType === 'SingleTenant' && s.MicrosoftAppTenantId)
    tenants.push(s.MicrosoftAppTenantId);
  const problems: string[] = [];
  if (s.MicrosoftAppId) problems.push(...authProblems(s, tenants));
  else if (!local)
    // A missing app id must never turn the bot into an open one.
    problems.push(
      'MicrosoftAppId is not set: set MicrosoftAppId and MicrosoftAppPassword for Teams, ' +
        'or TEAMS_LOCAL=1 for the unauthenticated local mode (Bot Framework Emulator, 127.0.0.1 only)',
    );
  if (problems.length > 0) throw new ConfigError(`Teams configuration: ${problems.join('; ')}`);
  const hosts = s.LBCHECK_TEAMS_SERVICE_HOSTS;
  return {
    appId: s.MicrosoftAppId ?? '',
    appPassword: s.MicrosoftAppPassword ?? '',
    ...(s.MicrosoftAppTenantId ? { tenantId: s.MicrosoftAppTenantId } : {}),
    ...(s.MicrosoftAppType ? { appType: s.MicrosoftAppType } : {}),
    port: s.TEAMS_PORT,
    ...(local
      ? { local: true }
      : { allowedTenants: tenants, serviceUrlHosts: hosts.length > 0 ? hosts : DEFAULT_SERVICE_URL_HOSTS }),
    ...(s.BotOpenIdMetadata ? { openIdMetadataUrl: s.BotOpenIdMetadata } : {}),
    ...(s.LBCHECK_PUBLIC_URL ? { publicUrl: s.LBCHECK_PUBLIC_URL } : {}),
    // Without a configured key, links stay valid only for this process's life.
    linkSecret: s.LBCHECK_LINK_SECRET ?? randomBytes(32).toString('hex'),
    linkTtlSeconds: s.LBCHECK_LINK_TTL_SECONDS,
  };
}
