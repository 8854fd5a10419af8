// LB accounts without root: the few commands that need privilege (tcpdump and
// the LB's own view) run through `sudo -n` (never a password prompt: a missing
// rule fails at once), each as one fixed command line that a sudoers rule can
// allow exactly. Everything else lbcheck runs (`ip`, `cat /proc/...`, the
// bash /dev/tcp probe) needs no privilege and never goes through sudo.

/** argv run as root: through `sudo -n` for a sudo LB account, unchanged otherwise. */
export function privileged(argv: readonly string[], sudo: boolean): string[] {
  return sudo ? ['sudo', '-n', ...argv] : [...argv];
}

/**
 * sudo's own refusal in a command's stderr (no rule, a password needed, a tty required, sudo not installed), or
 * undefined. sudo's warning about an unresolvable host name is no refusal: the command still runs.
 */
export const SUDO_REFUSAL = /(?:^|: )sudo: (?!unable to resolve host)[^\n]*/m;

export function sudoRefusal(stderr: string): string | undefined {
  return SUDO_REFUSAL.exec(stderr)?.[0].replace(/^: /, '').trim();
}

export interface SudoersOptions {
  /** The LB account lbcheck logs in as. */
  user: string;
  /** captureInterface of the LBs (default [any]; [] for no capture rule). */
  captureInterfaces?: string[];
  /** lbView haproxy sockets. */
  haproxySockets?: string[];
  /** lbView nginx configs; '' for nginx's default config. */
  nginxConfigs?: string[];
  /** Whether any VIP reads the iptables DNAT view. */
  iptables?: boolean;
  /** Where the binaries live on the LB (Debian's paths by default). */
  paths?: Partial<Record<'timeout' | 'socat' | 'nginx' | 'iptablesSave', string>>;
}

/** sudoers escapes these in command arguments. */
const escape = (s: string): string => s.replace(/[\\,:=]/g, (c) => `\\${c}`);

/**
 * The sudoers lines that allow exactly what lbcheck runs through sudo. The
 * capture's line is a regular expression (sudo 1.9.10 or later) pinning every
 * tcpdump option; only the numbers and the filter vary, and the filter comes
 * after `--`, so no option can be smuggled in through it.
 */
export function sudoersSnippet(o: SudoersOptions): string {
  const p = {
    timeout: '/usr/bin/timeout',
    socat: '/usr/bin/socat',
    nginx: '/usr/sbin/nginx',
    iptablesSave: '/usr/sbin/iptables-save',
    ...o.paths,
  };
  const ifaces = o.captureInterfaces ?? ['any'];
  const commands = [
    ...ifaces.map(
      (i) =>
        // eslint-disable-next-line max-len -- one sudoers pattern, read as the rule it is
        `${p.timeout} ^-s INT -k 2 [0-9]+ tcpdump -i ${escape(i)} -nn -U --immediate-mode -s [0-9]+ -c [0-9]+ -w - -- .+$`,
    ),
    ...(o.haproxySockets ?? []).map((s) => `${p.socat} stdio ${escape(`UNIX-CONNECT:${s}`)}`),
    ...(o.nginxConfigs ?? []).map((c) => (c ? `${p.nginx} -T -q -c ${escape(c)}` : `${p.nginx} -T -q`)),
    ...(o.iptables ? [`${p.iptablesSave} -t nat`] : []),
  ];
  return [
    `# lbcheck: the commands it runs as root, and nothing else (visudo -f /etc/sudoers.d/lbcheck)`,
    `Defaults:${o.user} !requiretty`,
    // Debian's and RHEL's sudoers set this already; without it `sudo nginx` is looked up on the account's PATH.
    `Defaults:${o.user} secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"`,
    ...(commands.length > 0 ? [`${o.user} ALL=(root) NOPASSWD: ${commands.join(', \\\n    ')}`] : []),
    '',
  ].join('\n');
}
