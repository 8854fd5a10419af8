// Configuration text for the lab's load balancers. Pure functions: the lab
// writes them to its run directory and starts the real daemons on them.
import { rule, type IptablesRule } from './iptables.js';

export interface PoolMember {
  address: string;
  port: number;
}

const serverLines = (members: PoolMember[], extra: string): string[] =>
  members.map((m, i) => `  server s${i + 1} ${m.address}:${m.port} ${extra}`);

/** HAProxy terminating TLS on the VIP (an L7 proxy by necessity) in front of the plain-HTTP pool. */
export function haproxyTlsConfig(vip: string, port: number, pem: string, members: PoolMember[]): string {
  return haproxyConfig('http', vip, port, members)
    .replace(`bind ${vip}:${port}`, `bind ${vip}:${port} ssl crt ${pem}`)
    .replaceAll('vip_http', 'vip_tls')
    .replaceAll('pool_http', 'pool_tls');
}

/** The runtime API socket of a lab HAProxy (lbcheck reads `show stat` from it over SSH). */
export const haproxySocket = (dir: string, mode: 'http' | 'tcp'): string => `${dir}/haproxy-${mode}.sock`;

/** The same HAProxy's stats sockets at the other levels (the main one is at level operator). */
export const haproxyLevelSocket = (socket: string, level: 'user' | 'admin'): string =>
  socket.replace(/\.sock$/, `-${level}.sock`);

export function haproxyConfig(
  mode: 'http' | 'tcp',
  vip: string,
  port: number,
  members: PoolMember[],
  socket?: string,
): string {
  return [
    'global',
    '  maxconn 512',
    ...(socket
      ? [
          `  stats socket ${socket} mode 600 level operator`,
          `  stats socket ${haproxyLevelSocket(socket, 'user')} mode 600 level user`,
          `  stats socket ${haproxyLevelSocket(socket, 'admin')} mode 600 level admin`,
        ]
      : []),
    'defaults',
    `  mode ${mode}`,
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  retries 1',
    `frontend vip_${mode}`,
    `  bind ${vip}:${port}`,
    `  default_backend pool_${mode}`,
    `backend pool_${mode}`,
    '  balance roundrobin',
    ...(mode === 'http' ? ['  option httpchk', '  http-check send meth GET uri /'] : []),
    ...serverLines(members, 'check inter 300ms fall 2 rise 1'),
    '',
  ].join('\n');
}

export function nginxConfig(dir: string, vip: string, port: number, members: PoolMember[]): string {
  // master_process off keeps nginx to the one PID the lab started and tracks.
  return [
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    'error_log stderr error;',
    'events { worker_connections 256; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/client_body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`,
    `  scgi_temp_path ${dir}/scgi;`,
    '  upstream pool {',
    ...members.map((m) => `    server ${m.address}:${m.port} max_fails=1 fail_timeout=1s;`),
    '  }',
    '  server {',
    `    listen ${vip}:${port};`,
    '    location / {',
    '      proxy_pass http://pool;',
    '      proxy_connect_timeout 2s;',
    '      proxy_read_timeout 10s;',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** iptables rules of the L4 forwarder: DNAT to the pool, SNAT to the LB's server-side address. */
export function dnatRules(
  vip: string,
  port: number,
  members: PoolMember[],
  lbServerSide: string,
): { dnat: IptablesRule[]; snat: IptablesRule[] } {
  // Round-robin across members with the nth statistic match, as kube-proxy does.
  const dnat = members.map((m, i) => {
    const nth = members.length - i;
    return rule('nat', 'PREROUTING', [
      '-d',
      `${vip}/32`,
      '-p',
      'tcp',
      '--dport',
      String(port),
      ...(nth > 1 ? ['-m', 'statistic', '--mode', 'nth', '--every', String(nth), '--packet', '0'] : []),
      '-j',
      'DNAT',
      '--to-destination',
      `${m.address}:${m.port}`,
    ]);
  });
  const snat = members.map((m) =>
    rule('nat', 'POSTROUTING', [
      '-d',
      `${m.address}/32`,
      '-p',
      'tcp',
      '--dport',
      String(m.port),
      '-m',
      'conntrack',
      '--ctstate',
      'DNAT',
      '--ctorigdst',
      `${vip}/32`,
      '-j',
      'SNAT',
      '--to-source',
      lbServerSide,
    ]),
  );
  return { dnat, snat };
}
