// Step 3's probes of one pool member: directly from this machine, and from the
// LB itself over SSH (a direct-tcpip channel, or a remote one-liner when the
// LB's sshd refuses forwarding). HAProxy-style check codes summarise each.
import type { Duplex } from 'node:stream';
import type { MemberProbe } from '../model/report.js';
import { ForwardError, type SshSession } from '../remote/ssh-session.js';
import { httpExchange, httpRequest } from './http-exchange.js';
import { tcpConnect } from './tcp-connect.js';

export interface MemberTarget {
  host: string;
  port: number;
  protocol: 'http' | 'tcp';
  /** The health path to request (the VIP's httpPath). */
  path: string;
}

/** L4OK / L4CON / L4TOUT / L7OK / L7STS / L7TOUT / L7RSP, as HAProxy names check results. */
export function checkCode(p: MemberProbe, protocol: 'http' | 'tcp'): string | undefined {
  if (p.outcome === 'refused') return 'L4CON';
  if (p.outcome === 'timeout') return 'L4TOUT';
  if (p.outcome !== 'connected') return undefined;
  if (protocol === 'tcp') return 'L4OK';
  if (p.httpStatus === undefined) return p.detail === 'silent' ? 'L7TOUT' : 'L7RSP';
  return p.httpStatus < 400 ? 'L7OK' : 'L7STS';
}

async function httpOver(stream: Duplex, m: MemberTarget, timeoutMs: number, probe: MemberProbe): Promise<MemberProbe> {
  const x = await httpExchange(stream, httpRequest(m.host, { path: m.path }), timeoutMs);
  stream.destroy();
  if (x.status !== undefined) return { ...probe, httpStatus: x.status };
  return { ...probe, detail: x.behaviour };
}

function finish(p: MemberProbe, protocol: 'http' | 'tcp'): MemberProbe {
  const code = checkCode(p, protocol);
  return code ? { ...p, code } : p;
}

export async function probeDirect(m: MemberTarget, timeoutMs: number, sourceAddress?: string): Promise<MemberProbe> {
  const r = await tcpConnect(m.host, m.port, timeoutMs, undefined, sourceAddress);
  let probe: MemberProbe = { outcome: r.outcome, ms: r.ms, ...(r.errno ? { detail: r.errno } : {}) };
  if (r.socket) {
    probe = m.protocol === 'http' ? await httpOver(r.socket, m, timeoutMs, probe) : probe;
    r.socket.destroy();
  }
  return finish(probe, m.protocol);
}

// The fallback when forwarding is off: bash's /dev/tcp from the LB, bounded by
// timeout. The script is constant; host, port and path travel as quoted
// arguments. It says on stderr when the connection is up, so a server that
// accepts and never answers (L7TOUT) is not mistaken for one that never
// accepted (L4TOUT) when the timeout ends it.
const CONNECTED = 'lbcheck:connected';
const REMOTE_PROBE = [
  'exec 3<>"/dev/tcp/$1/$2" || exit 7',
  `echo ${CONNECTED} >&2`,
  'printf "GET %s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" "$3" "$1" >&3',
  'head -c 256 <&3',
].join('; ');

async function probeByCommand(session: SshSession, m: MemberTarget, timeoutMs: number): Promise<MemberProbe> {
  const started = performance.now();
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const r = await session.run(
    ['timeout', String(seconds), 'bash', '-c', REMOTE_PROBE, 'lbcheck', m.host, String(m.port), m.path],
    timeoutMs + 3000,
  );
  const ms = Math.round(performance.now() - started);
  const base = { ms, via: 'remote-command' as const };
  const connected = r.stderr.includes(CONNECTED);
  if ((r.code === 124 || r.timedOut) && !connected) return finish({ ...base, outcome: 'timeout' }, m.protocol);
  if (/refused/i.test(r.stderr)) return finish({ ...base, outcome: 'refused' }, m.protocol);
  if (r.code === 7 || r.code === 127)
    return finish({ ...base, outcome: 'unreachable', detail: r.stderr.trim().slice(0, 200) }, m.protocol);
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(r.stdout);
  const probe: MemberProbe = { ...base, outcome: 'connected', ...(status ? { httpStatus: Number(status[1]) } : {}) };
  return finish(
    m.protocol === 'http' && !status ? { ...probe, detail: r.stdout ? 'non-http' : 'silent' } : probe,
    m.protocol,
  );
}

export async function probeFromLb(session: SshSession, m: MemberTarget, timeoutMs: number): Promise<MemberProbe> {
  const started = performance.now();
  let channel: Duplex;
  try {
    channel = await session.forwardOut(m.host, m.port, timeoutMs);
  } catch (err) {
    if (!(err instanceof ForwardError)) throw err;
    if (err.outcome === 'prohibited') return probeByCommand(session, m, timeoutMs);
    const ms = Math.round(performance.now() - started);
    return finish({ outcome: err.outcome, ms, via: 'direct-tcpip', detail: err.message }, m.protocol);
  }
  const probe: MemberProbe = { outcome: 'connected', ms: Math.round(performance.now() - started), via: 'direct-tcpip' };
  if (m.protocol !== 'http') {
    channel.destroy();
    return finish(probe, m.protocol);
  }
  return finish(await httpOver(channel, m, timeoutMs, probe), m.protocol);
}
