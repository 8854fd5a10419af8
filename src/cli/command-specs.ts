// What every lbcheck command accepts, as data: its arguments, options,
// subcommands and two examples. The parser (parse-args.ts), `--help` and the
// main help are all made from this table, so they cannot disagree. Plain data
// with no imports of the commands' code: `lbcheck <command> --help` loads
// nothing else. A new command is one spec here plus its entry (with `load`) in
// commands.ts, or in adapters/lbcheck.ts when it needs the chat adapters.
import { flagHelp, type FlagSpec } from '../runtime/parse-args.js';

export interface CommandSpec {
  name: string;
  /** Positional arguments as the usage line shows them, e.g. "<target>". */
  args?: string;
  summary: string;
  /** Lines printed under the usage line. */
  about?: string[];
  options: FlagSpec[];
  subcommands?: { usage: string; summary: string }[];
  /** Two real invocations, with <PLACEHOLDERS> for the reader's own addresses. */
  examples: readonly [string, string];
}

/** The usage line: options named when there are a few, `[options]` when there are many. */
export function synopsis(spec: CommandSpec): string {
  if (spec.subcommands) return `${spec.name} ${spec.subcommands.map((s) => s.usage.split(' ')[0]).join('|')} ...`;
  const args = spec.args ? ` ${spec.args}` : '';
  if (spec.options.length > 3) return `${spec.name}${args} [options]`;
  const options = spec.options.map((o) => ` [--${o.name}${o.value ? ` ${o.value}` : ''}]`).join('');
  return `${spec.name}${args}${options}`;
}

function subcommandLines(spec: CommandSpec): string[] {
  return (spec.subcommands ?? []).flatMap((s) => [`  lbcheck ${spec.name} ${s.usage}`, `      ${s.summary}`]);
}

/** `lbcheck <command> --help`: usage, what it does, options, then the two examples. */
export function commandHelp(spec: CommandSpec): string {
  const usage = spec.subcommands ? ['Usage:', ...subcommandLines(spec)] : [`Usage: lbcheck ${synopsis(spec)}`];
  const options = spec.options.length > 0 ? ['', 'Options:', flagHelp(spec.options)] : [];
  return [
    ...usage,
    ...(spec.about ?? []).map((line) => `  ${line}`),
    ...options,
    '',
    'Examples:',
    ...spec.examples.map((e) => `  ${e}`),
  ].join('\n');
}

const CONFIG: FlagSpec = { name: 'config', value: 'FILE', help: 'inventory YAML (default $LBCHECK_CONFIG)' };

export const RUN: CommandSpec = {
  name: 'run',
  args: '<target>',
  summary: 'run the three-step checklist against a VIP and print the verdicts and diagnosis',
  about: [
    '<target> is an inventory name or VIP:PORT (IPv6 as [ADDR]:PORT). lbcheck sends real packets to it, its LB',
    'and its members. It probes from this one machine (--source picks one of its addresses); to check from several',
    'zones at once and compare them, ask the bot: /lbcheck <target> --from all.',
    'Exit code 0 when the check ran (whatever it found), 2 usage error, 3 could not run, 70 bug in lbcheck.',
  ],
  options: [
    {
      name: 'lb',
      value: 'ssh://USER@HOST[:PORT]',
      help: "the load balancer to capture on (else the inventory entry's)",
    },
    {
      name: 'identity',
      value: 'FILE',
      help: 'SSH private key for the LB (default ~/.ssh/id_ed25519, id_ecdsa, id_rsa)',
    },
    {
      name: 'known-hosts',
      value: 'FILE',
      help: 'known_hosts file pinning the LB host key (default ~/.ssh/known_hosts)',
    },
    { name: 'host-key', value: 'SHA256:...', help: 'pinned LB host key fingerprint' },
    {
      name: 'member',
      aliases: ['members'],
      value: 'HOST:PORT[,...]',
      repeat: true,
      commaList: true,
      help: "pool members (repeatable; else the inventory's, else those seen in the capture)",
    },
    CONFIG,
    { name: 'all', help: 'run every step even after one fails' },
    { name: 'json', help: 'print the report as JSON (schemaVersion 1)' },
    { name: 'timeout', value: 'SECONDS', help: 'connect timeout per probe (default 3)' },
    {
      name: 'silent',
      value: 'SECONDS',
      help:
        "how long step 2's request for the VIP's httpPath (default /) may go unanswered before the VIP counts " +
        'as silent (default 5)',
    },
    { name: 'tls', help: 'the VIP speaks TLS (default for port 443)' },
    { name: 'sni', value: 'NAME', help: 'TLS server name to send' },
    {
      name: 'ca-file',
      value: 'FILE',
      help: "TLS: the CAs the VIP's clients trust, a PEM bundle (default: the system's CA store)",
    },
    { name: 'protocol', value: 'http|tcp', help: 'service protocol (default http)' },
    { name: 'capture-interface', value: 'IFACE', help: 'capture interface on the LB (default any)' },
    {
      name: 'source',
      value: 'ADDRESS',
      help: 'probe from this address of this machine (a vantage point of its own)',
    },
    {
      name: 'sudo',
      help: 'with --lb: the account is not root; the capture and the LB view run through sudo -n (lbcheck sudoers)',
    },
    {
      name: 'no-warm-channels',
      help: 'open an SSH channel per command, none waiting ahead (a key whose forced command vets each command)',
    },
    {
      name: 'evidence-dir',
      value: 'DIR',
      help: 'save evidence files and report.json under DIR/<check id>/ (else they are not kept)',
    },
    { name: 'no-local-capture', help: 'do not capture at this machine (then RST and ICMP refusals look alike)' },
    {
      name: 'persist',
      value: 'SECONDS',
      help:
        "keep the LB's SSH session and capture in a background process for SECONDS after each check, as OpenSSH's " +
        'ControlPersist: the next run with --persist answers in milliseconds (default $LBCHECK_PERSIST, else 0: off)',
    },
  ],
  examples: [
    'lbcheck run <VIP>:<PORT> --lb ssh://<USER>@<LB> --identity ~/.ssh/<KEY> --member <SERVER>:<PORT>,<SERVER>:<PORT>',
    'lbcheck run <NAME> --config inventory.yaml --all --evidence-dir ./evidence',
  ],
};

export const AUDIT: CommandSpec = {
  name: 'audit',
  summary: 'what was posted, by whom and when; verify the hash chain, its signatures and the evidence; export a check',
  subcommands: [
    { usage: 'show <checkId> [--json]', summary: 'every record of one check' },
    { usage: 'list [--since WHEN] [--target T] [--user U] [--json]', summary: 'records, filtered' },
    {
      usage: 'verify [--public-key PEM] [--checkpoint FILE] [--export FILE] [--json]',
      summary: 'check the chain, the evidence files, signed checkpoints, or an export',
    },
    { usage: 'export <checkId> [--out FILE]', summary: 'a tar of the report, evidence, check.html and records' },
    {
      usage: 'export --incident <thread or checkId>... [--out DIR]',
      summary: "incident.md for a postmortem: the threads' checks, re-runs, watch rounds, culprit changes, hashes",
    },
    { usage: 'checkpoint', summary: 'write a signed checkpoint now (needs LBCHECK_AUDIT_SIGNING_KEY)' },
    { usage: 'keygen [--out PREFIX]', summary: 'an Ed25519 key pair: PREFIX.pem (bot), PREFIX.pub.pem (auditors)' },
    { usage: 'prune [--days N]', summary: 'delete archived evidence older than N days (recorded)' },
  ],
  options: [
    { name: 'dir', value: 'DIR', help: 'audit directory (default $LBCHECK_AUDIT_DIR or ./lbcheck-data)' },
    { name: 'json', help: 'machine-readable output (show, list, verify)' },
    { name: 'since', value: 'WHEN', help: 'list: records since an ISO time or a duration such as 24h or 7d' },
    { name: 'target', value: 'TARGET', help: 'list: only checks of this target' },
    { name: 'user', value: 'USER', help: 'list: only checks asked by this user id' },
    {
      name: 'out',
      value: 'FILE',
      help: 'export: archive path (default <checkId>.tar), with --incident a folder; keygen: key file prefix',
    },
    {
      name: 'incident',
      help: 'export: the threads of these check or thread ids as incident.md and the HTML page set (--out DIR)',
    },
    { name: 'export', value: 'FILE', help: 'verify: check an exported archive on its own' },
    {
      name: 'public-key',
      value: 'PEM',
      help: 'verify: check checkpoints / the export signature with this public key',
    },
    {
      name: 'checkpoint',
      value: 'FILE',
      help: 'verify: a checkpoint kept off the machine (JSON as the webhook got it): detects truncation',
    },
    {
      name: 'days',
      value: 'N',
      help: 'prune: delete evidence older than N days (default $LBCHECK_RETENTION_DAYS or 90)',
    },
  ],
  examples: [
    'lbcheck audit list --since 24h --target <NAME>',
    'lbcheck audit verify --public-key lbcheck-audit.pub.pem',
  ],
};

export const SUDOERS: CommandSpec = {
  name: 'sudoers',
  summary: 'print the install script (two helpers, one sudoers rule) for LB accounts that are not root (sudo: true)',
  about: [
    'Prints the install script for the load balancers with `sudo: true` in the inventory: two helpers',
    '(/usr/local/sbin/lbcheck-capture, /usr/local/sbin/lbcheck-lb-view) that run the capture and the LB view the',
    'VIPs ask for after checking their own arguments, and the sudoers rule /etc/sudoers.d/lbcheck that allows',
    'exactly them. Review it, then run it as root on each LB (e.g. `lbcheck sudoers > lb-access.sh`, copy it,',
    '`sudo bash lb-access.sh`). It replaces the rule earlier versions printed, which a crafted argument could',
    'widen to root. docs/lb-access.md says what each piece allows.',
  ],
  options: [CONFIG, { name: 'account', value: 'USER', help: 'the LB account, when the inventory logs in as several' }],
  examples: ['lbcheck sudoers --config inventory.yaml', 'lbcheck sudoers --config inventory.yaml --account <USER>'],
};

const PROCESS_ENVIRONMENT = 'Settings come from the environment: every variable is in docs/environment.md.';

export const START: CommandSpec = {
  name: 'start',
  summary: 'run the bot and a probe worker in one process (npm start); console when no chat credentials',
  about: [
    'One process for one machine: the chat adapters (Slack, Teams, or the console when neither is configured),',
    'the report poster and a probe worker. Uses the Redis at REDIS_URL, or an in-process queue when REDIS_URL is',
    'unset and none answers on 127.0.0.1:6379.',
    PROCESS_ENVIRONMENT,
  ],
  options: [],
  examples: [
    'LBCHECK_CONFIG=inventory.yaml lbcheck start',
    'SLACK_BOT_TOKEN=<xoxb-token> SLACK_SIGNING_SECRET=<secret> LBCHECK_CONFIG=inventory.yaml lbcheck start',
  ],
};

export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'run the bot side: chat adapters and the report poster (workers run separately)',
  about: [
    'The bot side only: chat adapters, report poster, audit log and evidence archive, watches. Checks are run by',
    '`lbcheck worker` processes sharing its Redis (REDIS_URL) and LBCHECK_JOB_KEY.',
    PROCESS_ENVIRONMENT,
  ],
  options: [],
  examples: [
    'REDIS_URL=rediss://<USER>:<PASSWORD>@<REDIS>:6380/0 LBCHECK_CONFIG=/etc/lbcheck/inventory.yaml lbcheck serve',
    'SLACK_APP_TOKEN=<xapp-token> SLACK_BOT_TOKEN=<xoxb-token> LBCHECK_CONFIG=inventory.yaml lbcheck serve',
  ],
};

export const WORKER: CommandSpec = {
  name: 'worker',
  summary: 'run a probe worker: takes checks from Redis, runs them, reports each step',
  about: [
    'Needs Redis (REDIS_URL, LBCHECK_JOB_KEY as on the bot) and SSH reach to the LBs of its zone, nothing else.',
    'Its local capture needs tcpdump and CAP_NET_RAW/CAP_NET_ADMIN; without them checks still run, unable to tell',
    'a TCP reset from an ICMP unreachable here, and say so (LBCHECK_LOCAL_CAPTURE=0 turns it off).',
    PROCESS_ENVIRONMENT,
  ],
  options: [
    {
      name: 'zone',
      value: 'NAME',
      help: 'serve the checks queue of this vantage zone (default $LBCHECK_ZONE or "default")',
    },
    {
      name: 'source',
      value: 'ADDRESS',
      help: 'probe from this address of this host (default $LBCHECK_SOURCE_ADDRESS, else the route decides)',
    },
    {
      name: 'concurrency',
      value: 'N',
      help: 'checks run at once by this process (default $LBCHECK_WORKER_CONCURRENCY or 4)',
    },
  ],
  examples: ['lbcheck worker --zone dc1 --concurrency 8', 'lbcheck worker --zone dc2 --source <ADDRESS>'],
};
