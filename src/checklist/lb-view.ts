// The LB's own opinion of its pool, read over the same SSH session with fixed,
// read-only commands, and parsed here (pure): HAProxy's runtime API
// (`show stat`), the iptables DNAT rules for the VIP (`iptables-save -t nat`)
// and nginx's upstream for the VIP's server block (`nginx -T`; open-source
// nginx has no health view). Step 3 sets it beside the probes.
import { privileged, sudoRefusal } from '../remote/sudo.js';

export type LbViewSpec =
  { kind: 'haproxy'; socket: string; backend: string } | { kind: 'iptables' } | { kind: 'nginx'; config?: string };

export interface ViewedMember {
  /** host:port as the LB's configuration names it. */
  address: string;
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
}

/** The argv that reads a view (constant scripts; paths travel as quoted arguments); through sudo when asked. */
export function viewCommand(spec: LbViewSpec, sudo = false): string[] {
  switch (spec.kind) {
    case 'haproxy':
      // socat alone runs as root: the sudoers rule allows it for this one socket (sudo.ts).
      return [
        'sh',
        '-c',
        `printf "show stat\\n" | ${sudo ? 'sudo -n ' : ''}socat stdio "UNIX-CONNECT:$1"`,
        'lbcheck',
        spec.socket,
      ];
    case 'iptables':
      return privileged(['iptables-save', '-t', 'nat'], sudo);
    case 'nginx':
      return privileged(spec.config ? ['nginx', '-T', '-q', '-c', spec.config] : ['nginx', '-T', '-q'], sudo);
  }
}

/** HAProxy `show stat` CSV: the servers of one backend with their state and last check. */
export function parseHaproxyStat(text: string, backend: string): ViewedMember[] {
  const lines = text.split('\n');
  const header = lines
    .find((l) => l.startsWith('# '))
    ?.slice(2)
    .split(',');
  if (!header) throw new Error('no CSV header in the `show stat` output');
  const col = (name: string): number => header.indexOf(name);
  const [px, sv, status, check, addr] = ['pxname', 'svname', 'status', 'check_status', 'addr'].map(col);
  if ([px, sv, status, addr].some((i) => i === undefined || i < 0))
    throw new Error('`show stat` lacks pxname/svname/status/addr');
  const pick = (f: string[], i: number | undefined): string => (i === undefined || i < 0 ? '' : (f[i] ?? ''));
  return lines
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(','))
    .filter((f) => pick(f, px) === backend && !['FRONTEND', 'BACKEND'].includes(pick(f, sv)))
    .map((f) => {
      const m: ViewedMember = { address: pick(f, addr), state: pick(f, status).split(' ')[0] ?? '' };
      const c = pick(f, check).replace(/^\* /, '');
      if (c) m.check = c;
      return m;
    });
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

/** nginx -T: the upstream servers behind the server block that listens on vip:port. */
export function parseNginxUpstream(text: string, vip: string, port: number): ViewedMember[] {
  const conf = text.replace(/#[^\n]*/g, '');
  const servers = [...conf.matchAll(/server\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g)].map((m) => m[1] ?? '');
  const listening = servers.find((body) =>
    [...body.matchAll(/listen\s+([^;\s]+)[^;]*;/g)].some(
      (l) => l[1] === `${vip}:${port}` || (l[1] === String(port) && port !== 0),
    ),
  );
  if (!listening) throw new Error(`no nginx server block listens on ${vip}:${port}`);
  const upstreamName = /proxy_pass\s+https?:\/\/([^/;\s]+)/.exec(listening)?.[1];
  if (!upstreamName) throw new Error(`the server block for ${vip}:${port} has no proxy_pass`);
  const upstream = new RegExp(
    `upstream\\s+${upstreamName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\{([^}]*)\\}`,
  ).exec(conf);
  if (!upstream) return [{ address: upstreamName }];
  return [...(upstream[1] ?? '').matchAll(/server\s+([^;\s]+)[^;]*;/g)].map((m) => ({ address: m[1] ?? '' }));
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
  if (out.code !== 0) {
    const refused = sudoRefusal(out.stderr);
    if (refused)
      return {
        ...base,
        pool: [],
        error: `sudo on the LB refused \`${command}\` (${refused}): add its sudoers rule (\`lbcheck sudoers\`)`,
      };
    const why = out.stderr.trim().split('\n')[0] || `exit code ${out.code}`;
    return { ...base, pool: [], error: `${command.split(' ')[0]} failed on the LB: ${why}` };
  }
  try {
    if (spec.kind === 'haproxy') return { ...base, pool: parseHaproxyStat(out.stdout, spec.backend) };
    if (spec.kind === 'iptables') return { ...base, ...parseIptablesDnat(out.stdout, vip, port) };
    return { ...base, pool: parseNginxUpstream(out.stdout, vip, port) };
  } catch (err) {
    return { ...base, pool: [], error: (err as Error).message };
  }
}
