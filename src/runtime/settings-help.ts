// What each environment variable of settings.ts is for, in one sentence or
// two, grouped as the schemas are. docs/environment.md and .env.example are
// generated from these schemas and this text (test/docs/settings-docs.ts); a
// test fails when a schema holds a variable this file does not explain, or the
// generated files are stale. Defaults are not written here: they are what the
// schema gives for an unset variable.
import type { z } from 'zod';
import {
  alertsSettingsSchema,
  auditSchema,
  evidencePagesSchema,
  opsSchema,
  runtimeSchema,
  slackSchema,
  teamsSchema,
} from './settings.js';

export interface SettingsGroup {
  title: string;
  /** Which processes read the group. */
  readBy: string;
  schema: z.ZodObject;
}

export const SETTINGS_GROUPS: readonly SettingsGroup[] = [
  { title: 'Queue, inventory and checks', readBy: 'every process', schema: runtimeSchema },
  { title: 'Ops port and logs', readBy: 'start, serve and worker', schema: opsSchema },
  { title: 'Slack', readBy: 'start and serve (the bot side)', schema: slackSchema },
  { title: 'Microsoft Teams', readBy: 'start and serve (the bot side)', schema: teamsSchema },
  { title: 'Evidence pages (docs/evidence.md)', readBy: 'start and serve (the bot side)', schema: evidencePagesSchema },
  { title: 'Audit trail', readBy: 'start, serve and lbcheck audit', schema: auditSchema },
  { title: 'Alert receiver (docs/alerts.md)', readBy: 'start and serve (the bot side)', schema: alertsSettingsSchema },
];

/**
 * Variables read outside the schemas above, each with the module that checks
 * it. A test fails when the code reads a variable that is in neither place.
 */
export const READ_ELSEWHERE: Readonly<Record<string, { group: string; default: string; checkedIn: string }>> = {
  LBCHECK_LOG_LEVEL: { group: 'Ops port and logs', default: 'info', checkedIn: 'src/log.ts' },
  LBCHECK_PERSIST: { group: 'Queue, inventory and checks', default: '0 (off)', checkedIn: 'src/cli/run-command.ts' },
  XDG_RUNTIME_DIR: {
    group: 'Queue, inventory and checks',
    default: "the system's temporary directory",
    checkedIn: 'src/cli/persist-dir.ts',
  },
};

export const SETTING_HELP: Readonly<Record<string, string>> = {
  REDIS_URL:
    'The Redis the bot and workers share (`rediss://` for TLS, `user:password@` for an ACL user). Set explicitly, ' +
    'an unreachable Redis is fatal; unset and none answering on 127.0.0.1:6379, `start` runs the queue in-process.',
  LBCHECK_PREFIX: 'Prefix of every Redis key and queue. On Redis Cluster it must hold a {hash tag}, e.g. `{lbcheck}`.',
  LBCHECK_REDIS_CLUSTER:
    "`1`: REDIS_URL names one node of a Redis Cluster, reached with ioredis' Cluster client, which finds the others.",
  LBCHECK_ZONE:
    'The vantage zone whose checks a worker takes (`checks-<zone>` queue; `default` is the `checks` queue). ' +
    '`lbcheck worker --zone` overrides it.',
  LBCHECK_PERSIST:
    "`lbcheck run --persist`'s default: seconds a background process keeps the LB's SSH session and capture after " +
    'each check, so the next run answers in milliseconds ' +
    '(docs/how-a-check-works.md#kept-sessions-lbcheck-run---persist). 0: off.',
  XDG_RUNTIME_DIR:
    "Where `lbcheck run --persist` puts its kept process's socket (in `lbcheck-<uid>/`, refused unless private).",
  LBCHECK_CONFIG: 'The inventory YAML: load balancers, VIPs and the access policy (docs/configuration.md).',
  LBCHECK_WORKER_CONCURRENCY: 'Checks one worker process runs at once (`lbcheck worker --concurrency`).',
  LBCHECK_CAPTURES_PER_LB: 'At most this many captures on one LB at a time, across all workers.',
  LBCHECK_CONNECT_TIMEOUT_MS: 'How long a probe waits for a TCP connection, in milliseconds.',
  LBCHECK_SILENT_MS:
    "How long step 2 waits for an answer to its request for the VIP's `httpPath` before it calls the VIP silent.",
  LBCHECK_EVIDENCE_DIR: "Where the console copies each check's evidence files (`<dir>/<check id>/`).",
  LBCHECK_AUDIT_DIR: 'The audit log (`audit.jsonl`) and the evidence archive (`evidence/`) the bot side keeps.',
  LBCHECK_RETENTION_DAYS: '`lbcheck audit prune` deletes archived evidence older than this many days.',
  LBCHECK_EVIDENCE_MAX_BYTES:
    'Largest evidence file a worker sends through Redis; larger ones are cut (the report keeps the full size).',
  LBCHECK_EVIDENCE_TTL_SECONDS: 'How long evidence waits in Redis for the bot side to archive and post it.',
  LBCHECK_LOCK_MS:
    "A worker's lock on a running check. A crashed worker's check is picked up again within this plus " +
    'LBCHECK_STALLED_CHECK_MS; a worker whose event loop stalls longer loses its checks to other workers.',
  LBCHECK_STALLED_CHECK_MS: 'How often workers look for checks whose worker died (see LBCHECK_LOCK_MS).',
  LBCHECK_LOCAL_CAPTURE:
    '`0`: no tcpdump at the vantage point (then a TCP reset and an ICMP unreachable look alike). Unset: capture ' +
    'when tcpdump and CAP_NET_RAW are there, and say so when not.',
  LBCHECK_SHARED_CAPTURE:
    '`0`: each check starts its own tcpdump. Unset or `1`: a worker keeps one capture per LB and target running ' +
    'between checks and leases it (docs/how-a-check-works.md).',
  LBCHECK_SOURCE_ADDRESS:
    "The worker's probes leave from this address of its host, so one host can serve several zones " +
    '(`lbcheck worker --source`).',
  LBCHECK_JOB_KEY:
    'Seals every queued check and report with an HMAC over its id, issue time and a nonce (a seal runs once); ' +
    'the same on every bot and worker process. Required when Redis is not on loopback; without it, whoever can ' +
    'write to Redis can queue checks (startup warns).',
  LBCHECK_LOG: '`stderr` or a file path. Unset: `start` and `serve` log to `.lbcheck/lbcheck.log`, workers to stderr.',
  LBCHECK_METRICS_PORT:
    'The ops port (`/metrics`, `/healthz`, `/readyz`, `/admin/queues`). Unset: 9464 for `start` and `serve` ' +
    '(skipped with a notice when taken), none for workers. `0`: any free port; `off`: none.',
  LBCHECK_METRICS_HOST: 'The address the ops port listens on, e.g. `0.0.0.0` for a remote Prometheus.',
  LBCHECK_ADMIN_TOKEN:
    'Opens the read-only queue dashboard (`/admin/queues`) to requests carrying it as a bearer token or Basic ' +
    'auth password. Unset: no dashboard.',
  LBCHECK_LOG_LEVEL: '`debug`, `info`, `warn` or `error`.',
  LBCHECK_ALERTS_PORT:
    'Where alert senders POST (`/alerts/alertmanager`, `/alerts/generic`). Unset: no receiver; set, it needs ' +
    'LBCHECK_ALERTS_TOKEN or LBCHECK_ALERTS_HMAC_KEY.',
  LBCHECK_ALERTS_HOST: 'The address the alert receiver listens on, e.g. `0.0.0.0` when Alertmanager runs elsewhere.',
  LBCHECK_ALERTS_TOKEN:
    'Senders send it as `Authorization: Bearer <token>` (Alertmanager: `http_config.authorization`).',
  LBCHECK_ALERTS_HMAC_KEY: 'Senders sign the body with it: `X-Lbcheck-Signature: sha256=<hex HMAC-SHA256>`.',
  SLACK_BOT_TOKEN: "The Slack app's bot token (`xoxb-...`). Set: the bot runs on Slack.",
  SLACK_SIGNING_SECRET: "The Slack app's signing secret: every request to the bot is checked with it (HTTP mode).",
  SLACK_APP_TOKEN: 'An app-level token (`xapp-...`): Socket Mode, so Slack needs no URL of the bot.',
  SLACK_API_URL: 'Where the Slack Web API is (GovSlack, a proxy); ends in `/`.',
  SLACK_PORT: 'Where the Slack receiver listens (`/slack/commands`, `/slack/actions`) in HTTP mode.',
  LBCHECK_SLACK_FILE_MAX_BYTES:
    'Largest evidence upload to Slack; larger files are cut with a note (the archive keeps them whole).',
  MicrosoftAppId: "The Azure Bot's app id. Set: the bot runs on Teams.",
  MicrosoftAppPassword: "The Azure Bot's client secret.",
  MicrosoftAppType: "`MultiTenant`, `SingleTenant` or `UserAssignedMSI` (Bot Framework's own setting).",
  MicrosoftAppTenantId: "The app's tenant, for a SingleTenant app (also the default of LBCHECK_TEAMS_TENANTS).",
  TEAMS_PORT: 'Where the Teams endpoint (`/api/messages`) and the evidence links (`/evidence/...`) listen.',
  TEAMS_LOCAL:
    '`1` with no app id: the unauthenticated local mode for the Bot Framework Emulator, on 127.0.0.1 only. Never ' +
    'outside a workstation.',
  LBCHECK_TEAMS_TENANTS: 'Comma-separated tenant ids whose activities are accepted (required with an app id).',
  LBCHECK_TEAMS_SERVICE_HOSTS:
    "Hosts an activity's `serviceUrl` may name (replies go there); `*.domain` matches subdomains. Unset: " +
    '`smba.trafficmanager.net`.',
  BotOpenIdMetadata: 'Replaces the OpenID metadata URL tokens are checked against (private clouds).',
  LBCHECK_PUBLIC_URL:
    'The https URL Teams users reach the bot at: evidence links point there (required with an app id).',
  LBCHECK_LINK_SECRET:
    'Signs the evidence links in Teams cards and the evidence page links in every diagnosis (at least 16 ' +
    'characters). Unset: a key made at startup, so links stop working when the bot restarts.',
  LBCHECK_LINK_TTL_SECONDS: 'How long an evidence link (a Teams download or an evidence page) stays valid.',
  LBCHECK_EVIDENCE_PORT:
    "Serves each chat check's evidence page (check.html, and every file of the check) at a signed link that " +
    'every Slack and Teams diagnosis carries. Unset: no pages are served and no diagnosis links one (the page is ' +
    'still archived; `lbcheck audit export` includes it).',
  LBCHECK_EVIDENCE_HOST: 'The address the evidence pages listen on, e.g. `0.0.0.0` behind a reverse proxy.',
  LBCHECK_EVIDENCE_URL:
    'The http(s) URL chat users reach the evidence pages at (e.g. https://lbcheck.example.com behind a proxy). ' +
    'Unset: http://<LBCHECK_EVIDENCE_HOST>:<port>, which only that machine can open unless the host is public.',
  LBCHECK_AUDIT_SIGNING_KEY:
    'Path of an Ed25519 private key (`lbcheck audit keygen`): signed checkpoints make truncation and rewrites of ' +
    'the audit log detectable. Unset: hash chain only (startup warns).',
  LBCHECK_AUDIT_CHECKPOINT_RECORDS: 'A signed checkpoint every this many audit records.',
  LBCHECK_AUDIT_CHECKPOINT_SECONDS: 'A signed checkpoint after this many seconds when anything was written.',
  LBCHECK_AUDIT_CHECKPOINT_URL: "Each checkpoint is POSTed here as JSON, to a machine the bot's admins cannot edit.",
};
