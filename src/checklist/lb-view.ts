// The LB's own opinion of its pool, read over the same SSH session with fixed,
// read-only commands, and parsed here (pure): HAProxy's runtime API
// (`show stat`), the iptables DNAT rules for the VIP (`iptables-save -t nat`)
// and nginx's upstream for the VIP's server block (`nginx -T`; open-source
// nginx has no health view). Step 3 sets it beside the probes.
import { isIPv6 } from 'node:net';
import { HELPER_PROTOCOL, VIEW_HELPER } from '../remote/lb-helpers.js';
import { helperRefusal, privileged, sudoRefusal } from '../remote/sudo.js';

export type LbViewSpec =
  { kind: 'haproxy'; socket: string; backend: string } | { kind: 'iptables' } | { kind: 'nginx'; config?: string };

export interface ViewedMember {
  /** host:port as the LB's configuration names it; '' when the LB would not say (HAProxy at level user). */
  address: string;
  /** HAProxy: the server's name in its backend. */
  name?: string;
  /** HAProxy: UP, DOWN, MAINT, NOLB, DRAIN... (absent where the LB keeps no health state). */
  state?: string;
  /** HAProxy's last check result, e.g. L4OK, L4CON, L7STS. */
  check?: string;
}

export interface LbView {
  source: LbViewSpec['kind'];
  /** The exact remote command that produced it. */
  command: string;
  pool: ViewedMember[];
  /** iptables: whether the forwarded traffic is source-NATed (replies come back through the LB). */
  snat?: boolean;
  /** Why the view could not be read or parsed; the probes stand alone then. */
  error?: string;
  /** What the LB's answer left out and how the view made up for it (HAProxy's stats socket at level user). */
  hidden?: string;
}

/**
 * The argv that reads a view. As root: constant scripts, paths as quoted arguments. Through sudo: the view helper
 * (lb-helpers.ts), which runs the same reads after checking the socket or config is one it was installed for.
 */
export function viewCommand(spec: LbViewSpec, sudo = false): string[] {
  if (sudo) {
    const args = spec.kind === 'haproxy' ? [spec.socket] : spec.kind === 'nginx' && spec.config ? [spec.config] : [];
    return privileged([VIEW_HELPER, HELPER_PROTOCOL, spec.kind, ...args], true);
  }
  switch (spec.kind) {
    case 'haproxy':
      // `show servers state` names each server's address also where `show stat` hides it (level user).
      return [
        'sh',
        '-c',
        'printf "show stat;show servers state\\n" | socat stdio "UNIX-CONNECT:$1"',
        'lbcheck',
        spec.socket,
      ];
    case 'iptables':
      return ['iptables-save', '-t', 'nat'];
    case 'nginx':
      return spec.config ? ['nginx', '-T', '-q', '-c', spec.config] : ['nginx', '-T', '-q'];
  }
}

/** `show servers state` (space-separated, after a format-version line): each server's address by name. */
function serverAddresses(text: string, backend: string): Map<string, string> {
  const lines = text.split('\n');
  const header = lines
    .find((l) => l.startsWith('# be_id '))
    ?.slice(2)
    .split(' ');
  const out = new Map<string, string>();
  if (!header) return out;
  const [be, name, addr, port] = ['be_name', 'srv_name', 'srv_addr', 'srv_port'].map((c) => header.indexOf(c));
  for (const f of lines.filter((l) => /^\d+ /.test(l)).map((l) => l.split(' '))) {
    const [b, n, a, p] = [be, name, addr, port].map((i) => (i === undefined || i < 0 ? '' : (f[i] ?? '')));
    if (b === backend && n && a && /^\d+$/.test(p ?? '')) out.set(n, a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  }
  return out;
}

/**
 * HAProxy `show stat` CSV: the servers of one backend with their state and last check, and their addresses, from
 * `show servers state` (matched by server name) where `show stat` leaves them out: at level user it does.
 */
export function parseHaproxyStat(text: string, backend: string): ViewedMember[] {
  return readHaproxyStat(text, backend).pool;
}

function readHaproxyStat(text: string, backend: string): { pool: ViewedMember[]; statNamedAddresses: boolean } {
  const lines = text.split('\n');
  const header = lines
    .find((l) => l.startsWith('# pxname,'))
    ?.slice(2)
    .split(',');
  if (!header) throw new Error('no CSV header in the `show stat` output');
  const col = (name: string): number => header.indexOf(name);
  const [px, sv, status, check, addr] = ['pxname', 'svname', 'status', 'check_status', 'addr'].map(col);
  if ([px, sv, status, addr].some((i) => i === undefined || i < 0))
    throw new Error('`show stat` lacks pxname/svname/status/addr');
  const pick = (f: string[], i: number | undefined): string => (i === undefined || i < 0 ? '' : (f[i] ?? ''));
  const byName = serverAddresses(text, backend);
  const rows = lines
    .filter((l) => l && !l.startsWith('#') && l.includes(','))
    .map((l) => l.split(','))
    .filter((f) => pick(f, px) === backend && !['FRONTEND', 'BACKEND'].includes(pick(f, sv)));
  const pool = rows.map((f) => {
    const name = pick(f, sv);
    const m: ViewedMember = {
      address: pick(f, addr) || (byName.get(name) ?? ''),
      name,
      state: pick(f, status).split(' ')[0] ?? '',
    };
    const c = pick(f, check).replace(/^\* /, '');
    if (c) m.check = c;
    return m;
  });
  return { pool, statNamedAddresses: rows.some((f) => pick(f, addr) !== '') };
}

/** The HAProxy view, and a sentence when `show stat` named no server addresses (a stats socket at level user). */
export function parseHaproxyView(text: string, backend: string): { pool: ViewedMember[]; hidden?: string } {
  const { pool, statNamedAddresses } = readHaproxyStat(text, backend);
  if (pool.length === 0 || statNamedAddresses) return { pool };
  const lead = "HAProxy's `show stat` gave no server addresses (a stats socket at level user hides them)";
  const unnamed = pool.filter((m) => m.address === '').map((m) => `${m.name ?? '?'} (${m.state ?? '?'})`);
  if (unnamed.length === 0)
    return { pool, hidden: `${lead}; \`show servers state\` lists them, so its servers were matched by name.` };
  return {
    pool,
    hidden:
      `${lead}, and \`show servers state\` did not list them: its servers ${unnamed.join(', ')} are known by ` +
      'name only, so they are not compared with the members by address.',
  };
}

/** iptables-save: the DNAT targets of rules for vip:port, and whether SNAT/MASQUERADE applies to them. */
export function parseIptablesDnat(text: string, vip: string, port: number): { pool: ViewedMember[]; snat: boolean } {
  const rules = text.split('\n').filter((l) => l.startsWith('-A '));
  const forVip = rules.filter(
    (r) =>
      / -j DNAT /.test(r) &&
      new RegExp(`-d ${vip.replaceAll('.', '\\.')}(/32)? `).test(r) &&
      new RegExp(`--dport ${port}( |$)`).test(r),
  );
  const pool = [
    ...new Set(forVip.map((r) => /--to-destination (\S+)/.exec(r)?.[1]).filter((d): d is string => d !== undefined)),
  ].map((address) => ({ address }));
  const members = pool.map((m) => m.address.split(':')[0]);
  const snat = rules.some(
    (r) =>
      / -A POSTROUTING /.test(` ${r}`) &&
      / -j (SNAT|MASQUERADE)/.test(r) &&
      (r.includes(`--ctorigdst ${vip}`) || members.some((h) => h && r.includes(`-d ${h}/`)) || !/ -d | -s /.test(r)),
  );
  return { pool, snat };
}

/** An address as one spelling: IPv6 lower-case and compressed (`2001:DB8:0::10` is `2001:db8::10`). */
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return isIPv6(bare) ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : bare.toLowerCase();
}

/**
 * Whether an nginx `listen` line takes connections to vip:port. Its address forms: `80` and `*:80` (every IPv4
 * address), `10.0.0.1:80`, `[2001:db8::10]:80`, `[::]:80` (every IPv6 address, and IPv4 too with
 * `ipv6only=off`), and an address without a port (80).
 */
export function nginxListens(line: string, vip: string, port: number): boolean {
  const [spec = '', ...params] = line.trim().split(/\s+/);
  if (spec.startsWith('unix:')) return false;
  const m = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d+)$/.exec(spec) ?? /^(\[[^\]]+\]|[^:[\]]+)()$/.exec(spec);
  if (!m) return false;
  const listenPort = m[2] ? Number(m[2]) : 80;
  if (listenPort !== port) return false;
  const host = m[1] === undefined || m[1] === '*' ? '0.0.0.0' : canonicalHost(m[1]);
  const v6 = isIPv6(vip);
  if (host === '0.0.0.0') return !v6;
  if (host === '::') return v6 || params.includes('ipv6only=off');
  return host === canonicalHost(vip);
}

/** An upstream `server` address as lbcheck prints endpoints: an IPv6 one canonical, in brackets. */
function upstreamAddress(a: string): string {
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(a);
  return v6 ? `[${canonicalHost(v6[1] ?? '')}]${v6[2] ?? ''}` : a;
}

/** nginx -T: the upstream servers behind the server block that listens on vip:port. */
export function parseNginxUpstream(text: string, vip: string, port: number): ViewedMember[] {
  const conf = text.replace(/#[^\n]*/g, '');
  const servers = [...conf.matchAll(/server\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)].map((m) => m[1] ?? '');
  const listening = servers.find((body) =>
    [...body.matchAll(/listen\s+([^;]+);/g)].some((l) => nginxListens(l[1] ?? '', vip, port)),
  );
  if (!listening) throw new Error(`no nginx server block listens on ${vip}:${port}`);
  const upstreamName = /proxy_pass\s+https?:\/\/([^/;\s]+)/.exec(listening)?.[1];
  if (!upstreamName) throw new Error(`the server block for ${vip}:${port} has no proxy_pass`);
  const upstream = new RegExp(
    `upstream\\s+${upstreamName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\{([^}]*)\\}`,
  ).exec(conf);
  if (!upstream) return [{ address: upstreamName }];
  return [...(upstream[1] ?? '').matchAll(/server\s+([^;\s]+)[^;]*;/g)].map((m) => ({
    address: upstreamAddress(m[1] ?? ''),
  }));
}

/** Reads and parses the view; a failure becomes the view's `error`, never the check's. */
export function parseView(
  spec: LbViewSpec,
  command: string,
  out: { code: number | null; stdout: string; stderr: string },
  vip: string,
  port: number,
): LbView {
  const base = { source: spec.kind, command };
  if (out.code !== 0) return { ...base, pool: [], error: viewFailure(command, out) };
  try {
    if (spec.kind === 'haproxy') return { ...base, ...parseHaproxyView(out.stdout, spec.backend) };
    if (spec.kind === 'iptables') return { ...base, ...parseIptablesDnat(out.stdout, vip, port) };
    return { ...base, pool: parseNginxUpstream(out.stdout, vip, port) };
  } catch (err) {
    return { ...base, pool: [], error: (err as Error).message };
  }
}

/** Why reading the view failed, with what to do: sudo's refusal, the helper's, or the tool's own error. */
function viewFailure(command: string, out: { code: number | null; stderr: string }): string {
  const install =
    'sudo refuses the view helper when its rule is missing or the helper is missing or changed: run as root on ' +
    'the LB the install script `lbcheck sudoers` prints (docs/lb-access.md)';
  const refused = sudoRefusal(out.stderr);
  if (refused) return `sudo on the LB refused \`${command}\` (${refused}): ${install}`;
  const helper = helperRefusal(out.stderr);
  if (helper) return `the view helper on the LB refused \`${command}\` (${helper})`;
  const why = out.stderr.trim().split('\n')[0] || `exit code ${out.code}`;
  return `${command.split(' ')[0]} failed on the LB: ${why}`;
}
