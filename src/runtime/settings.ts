// Every environment variable lbcheck reads, validated in one place with zod.
// Each group (runtime, Slack, Teams, audit) is a schema from the raw strings to
// typed values; a refusal names the variable, its value (never a secret's) and
// what a valid value looks like. An empty variable means "unset" (its default),
// except for secrets: an empty secret is a mistake, not a choice.
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { safeRedisUrl } from './redis-url.js';
import { ZONE } from '../model/ids.js';

type Raw = string | undefined;
const given = (raw: Raw): raw is string => raw !== undefined && raw !== '';
const raw = z.string().optional();

/** How a refused value may be shown: secrets never are, Redis URLs only masked. */
const SHOWN_AS: Record<string, (value: string) => string> = {
  REDIS_URL: (v) => JSON.stringify(safeRedisUrl(v)),
};
const SECRETS = new Set<string>();

function whole(fallback: number, min: number, max: number) {
  return raw.transform((text, ctx): number => {
    if (!given(text)) return fallback;
    const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
    return z.NEVER;
  });
}

/** A value held to a pattern; unset gives the fallback (undefined when there is none). */
function matching<F extends string | undefined>(fallback: F, pattern: RegExp, expected: string) {
  return raw.transform((text, ctx): string | F => {
    if (!given(text)) return fallback;
    if (pattern.test(text)) return text;
    ctx.addIssue({ code: 'custom', message: expected });
    return z.NEVER;
  });
}

function anyText<F extends string | undefined>(fallback: F) {
  return raw.transform((text): string | F => (given(text) ? text : fallback));
}

/**
 * A secret: never echoed. Keys that protect something (links, jobs) refuse an empty value, which is
 * usually an unset shell variable; platform tokens keep "empty = this platform is off".
 */
function secret(name: string, minLength: number, expected: string, emptyIsUnset = false) {
  SECRETS.add(name);
  return raw.transform((text, ctx): string | undefined => {
    if (text === undefined || (emptyIsUnset && text === '')) return undefined;
    if (text.length >= minLength) return text;
    ctx.addIssue({ code: 'custom', message: text === '' ? `is set but empty: it ${expected}` : expected });
    return z.NEVER;
  });
}

const httpUrl = (expected: string) => matching(undefined, /^https?:\/\/[^\s]+$/, expected);
const port = (fallback: number) => whole(fallback, 0, 65535);
const list = raw.transform((text) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);

/** A comma-separated list whose every entry must match: e.g. host names, not URLs. */
function listOf(pattern: RegExp, expected: string) {
  return list.transform((items, ctx): string[] => {
    const bad = items.filter((item) => !pattern.test(item));
    if (bad.length === 0) return items;
    ctx.addIssue({ code: 'custom', message: `${expected}; not ${bad.map((b) => JSON.stringify(b)).join(', ')}` });
    return z.NEVER;
  });
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The host as the text spells it after the last "@" (or after "://"): "[v6]", or up to a port, path or query. */
function hostAfterLastAt(text: string): string {
  const rest = text.slice(Math.max(text.indexOf('://') + 3, text.lastIndexOf('@') + 1));
  return (rest.startsWith('[') ? /^\[[^\]]*\]/ : /^[^:/?#]*/).exec(rest)?.[0] ?? '';
}

/** Why a REDIS_URL is refused, or undefined. */
function redisUrlProblem(text: string): string | undefined {
  const shape = 'must look like redis://host:6379 or rediss://user:pass@host:6380/0';
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return shape;
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') return shape;
  // A password holding "/", "?" or "#" ends the URL's authority early: a parser then connects to a host made
  // of the user name and the password would be printed as a path. The host must be what follows the last "@".
  const spelled = hostAfterLastAt(text).toLowerCase();
  if (spelled !== u.hostname.toLowerCase())
    return (
      `names host ${JSON.stringify(spelled)} after its last "@", but a URL parser reads another host (the part ` +
      `before it holds "/", "?" or "#"): percent-encode those in the password (%2F, %3F, %23; "@" as %40)`
    );
  return undefined;
}

export const runtimeSchema = z.object({
  REDIS_URL: raw.transform((text, ctx): string => {
    if (!given(text)) return DEFAULT_REDIS_URL;
    const problem = redisUrlProblem(text);
    if (problem === undefined) return text;
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }),
  LBCHECK_PREFIX: matching(
    'lbcheck',
    /^[{}A-Za-z0-9_.-]{1,64}$/,
    'may hold letters, digits, {}, _ . - only (use {lbcheck} on Redis Cluster)',
  ),
  LBCHECK_REDIS_CLUSTER: matching(undefined, /^[01]$/, 'must be 1 (REDIS_URL names a Redis Cluster node) or 0'),
  LBCHECK_ZONE: matching('default', ZONE, 'must be a short name of letters, digits, _ and -'),
  LBCHECK_CONFIG: anyText(undefined),
  LBCHECK_WORKER_CONCURRENCY: whole(4, 1, 256),
  LBCHECK_CAPTURES_PER_LB: whole(2, 1, 64),
  LBCHECK_CONNECT_TIMEOUT_MS: whole(3000, 100, 120_000),
  LBCHECK_SILENT_MS: whole(5000, 100, 120_000),
  LBCHECK_EVIDENCE_DIR: anyText('evidence'),
  LBCHECK_AUDIT_DIR: anyText('lbcheck-data'),
  LBCHECK_RETENTION_DAYS: whole(90, 1, 36500),
  LBCHECK_EVIDENCE_MAX_BYTES: whole(8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  LBCHECK_EVIDENCE_TTL_SECONDS: whole(24 * 3600, 60, 30 * 24 * 3600),
  // A lost worker is noticed within lock + interval (15 s): its lock expires 10 s after its last renewal at
  // most, and another worker looks every 5 s. The price: a worker whose event loop is blocked longer than
  // 10 s loses its checks to others (they run again).
  LBCHECK_LOCK_MS: whole(10_000, 1000, 600_000),
  LBCHECK_STALLED_CHECK_MS: whole(5_000, 1000, 600_000),
  LBCHECK_LOCAL_CAPTURE: matching(undefined, /^[01]$/, 'must be 0 (no capture on this machine) or 1'),
  // One tcpdump per LB and target kept running between checks (capture-hubs.ts); 0: each check its own.
  LBCHECK_SHARED_CAPTURE: matching(undefined, /^[01]$/, 'must be 0 (each check starts its own capture) or 1'),
  // The vantage point's own address, when one host probes for several zones (one worker per address).
  LBCHECK_SOURCE_ADDRESS: raw.transform((text, ctx): string | undefined => {
    if (!given(text)) return undefined;
    if (isIP(text) !== 0) return text;
    ctx.addIssue({ code: 'custom', message: 'must be an IP address of this machine (the probes leave from it)' });
    return z.NEVER;
  }),
  LBCHECK_JOB_KEY: secret(
    'LBCHECK_JOB_KEY',
    32,
    'must be at least 32 characters (e.g. openssl rand -hex 32), the same on bot and workers',
  ),
  LBCHECK_LOG: anyText(undefined),
});

export const slackSchema = z.object({
  SLACK_BOT_TOKEN: secret('SLACK_BOT_TOKEN', 1, 'must be the bot token (xoxb-...)', true),
  SLACK_SIGNING_SECRET: secret('SLACK_SIGNING_SECRET', 1, "must be the app's signing secret", true),
  SLACK_APP_TOKEN: secret('SLACK_APP_TOKEN', 1, 'must be an app-level token (xapp-...)', true),
  SLACK_API_URL: matching(
    undefined,
    /^https?:\/\/.+\/$/,
    'must be an http(s) URL ending in / (e.g. https://slack-gov.com/api/)',
  ),
  SLACK_PORT: port(3000),
  LBCHECK_SLACK_FILE_MAX_BYTES: whole(5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
});

export const teamsSchema = z.object({
  MicrosoftAppId: anyText(undefined),
  MicrosoftAppPassword: secret('MicrosoftAppPassword', 1, 'must be the app password (client secret)', true),
  MicrosoftAppType: matching(
    undefined,
    /^(MultiTenant|SingleTenant|UserAssignedMSI)$/,
    'must be MultiTenant, SingleTenant or UserAssignedMSI',
  ),
  MicrosoftAppTenantId: anyText(undefined),
  TEAMS_PORT: port(3978),
  TEAMS_LOCAL: matching(undefined, /^1$/, 'must be 1 (unauthenticated local mode) or unset'),
  LBCHECK_TEAMS_TENANTS: list,
  LBCHECK_TEAMS_SERVICE_HOSTS: listOf(
    /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/,
    'must list host names (smba.trafficmanager.net) or *.domain patterns, comma-separated',
  ),
  BotOpenIdMetadata: httpUrl('must be an http(s) URL'),
  LBCHECK_PUBLIC_URL: httpUrl('must be the http(s) URL chat users reach this bot at'),
  LBCHECK_LINK_SECRET: secret(
    'LBCHECK_LINK_SECRET',
    16,
    'must be at least 16 characters (e.g. openssl rand -hex 32); it signs evidence links',
  ),
  LBCHECK_LINK_TTL_SECONDS: whole(7 * 24 * 3600, 1, 366 * 24 * 3600),
});

/** The ops port (metrics, health, queue dashboard); LBCHECK_LOG_LEVEL is checked where the log is made (src/log.ts). */
/** A port to listen on, unset when there is no listener by default; 0 is any free port. */
function listenPort<Off extends string = never>(expected: string, off?: Off) {
  return raw.transform((text, ctx): number | Off | undefined => {
    if (!given(text)) return undefined;
    if (off !== undefined && text === off) return off;
    const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(n) && n <= 65535) return n;
    ctx.addIssue({ code: 'custom', message: expected });
    return z.NEVER;
  });
}

const listenHost = matching(
  '127.0.0.1',
  /^[A-Za-z0-9.:-]{1,253}$/,
  'must be an address or host name to listen on (e.g. 0.0.0.0)',
);

export const opsSchema = z.object({
  LBCHECK_METRICS_PORT: listenPort('must be a port number (0: any free port) or off', 'off'),
  LBCHECK_METRICS_HOST: listenHost,
  // Empty: no dashboard (it fails closed, unlike a signing key, so an unset shell variable is harmless).
  LBCHECK_ADMIN_TOKEN: secret(
    'LBCHECK_ADMIN_TOKEN',
    16,
    'must be at least 16 characters (e.g. openssl rand -hex 24); it opens the queue dashboard',
    true,
  ),
});

/** The alert webhook receiver (src/alerts): off unless LBCHECK_ALERTS_PORT is set; never without a secret. */
export const alertsSettingsSchema = z
  .object({
    LBCHECK_ALERTS_PORT: listenPort('must be a port number (0: any free port) or unset (no receiver)'),
    LBCHECK_ALERTS_HOST: listenHost,
    LBCHECK_ALERTS_TOKEN: secret(
      'LBCHECK_ALERTS_TOKEN',
      32,
      'must be at least 32 characters (e.g. openssl rand -hex 32); senders send it as Authorization: Bearer',
    ),
    LBCHECK_ALERTS_HMAC_KEY: secret(
      'LBCHECK_ALERTS_HMAC_KEY',
      32,
      'must be at least 32 characters; senders sign the body with it (X-Lbcheck-Signature: sha256=<hex>)',
    ),
  })
  .superRefine((s, ctx) => {
    if (s.LBCHECK_ALERTS_PORT !== undefined && !s.LBCHECK_ALERTS_TOKEN && !s.LBCHECK_ALERTS_HMAC_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['LBCHECK_ALERTS_PORT'],
        message:
          'is set but neither LBCHECK_ALERTS_TOKEN nor LBCHECK_ALERTS_HMAC_KEY is: the receiver never runs ' +
          'unauthenticated',
      });
  });

/**
 * The chat checks' evidence pages (adapters/evidence-http.ts): off unless LBCHECK_EVIDENCE_PORT is set. Links are
 * signed with LBCHECK_LINK_SECRET and live LBCHECK_LINK_TTL_SECONDS (the Teams group), as Teams' downloads are.
 */
export const evidencePagesSchema = z.object({
  LBCHECK_EVIDENCE_PORT: listenPort('must be a port number (0: any free port) or unset (no evidence pages)'),
  LBCHECK_EVIDENCE_HOST: listenHost,
  LBCHECK_EVIDENCE_URL: httpUrl('must be the http(s) URL chat users reach the evidence pages at'),
});

export const auditSchema = z.object({
  LBCHECK_AUDIT_SIGNING_KEY: anyText(undefined),
  LBCHECK_AUDIT_CHECKPOINT_RECORDS: whole(100, 1, 1_000_000),
  LBCHECK_AUDIT_CHECKPOINT_SECONDS: whole(300, 1, 7 * 24 * 3600),
  LBCHECK_AUDIT_CHECKPOINT_URL: httpUrl('must be the http(s) URL checkpoints are POSTed to'),
});

export type RuntimeSettings = z.output<typeof runtimeSchema>;
export type SlackSettings = z.output<typeof slackSchema>;
export type TeamsSettings = z.output<typeof teamsSchema>;
export type AuditSettings = z.output<typeof auditSchema>;
export type AlertsSettings = z.output<typeof alertsSettingsSchema>;
export type EvidencePagesSettings = z.output<typeof evidencePagesSchema>;

/** One line per refused variable: its name, its value unless secret, and what is expected. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], env: NodeJS.ProcessEnv): string[] {
  return issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    const value = env[name];
    if (SECRETS.has(name)) return `${name} (value not shown) ${issue.message}`;
    if (value === undefined) return `${name} ${issue.message}`;
    const show = SHOWN_AS[name] ?? ((v: string) => JSON.stringify(v));
    return `${name}=${show(value)} ${issue.message}`;
  });
}

/** Parses one group of variables; every refused variable is named at once in a ConfigError. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, what: string): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(`${what}:\n  ${describeIssues(result.error.issues, env).join('\n  ')}`);
}
