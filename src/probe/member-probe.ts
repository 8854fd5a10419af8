// Step 3's probes of one pool member: directly from this machine, and from the
// LB itself over SSH (a direct-tcpip channel, or a remote one-liner when the
// LB's sshd refuses forwarding). HAProxy-style check codes summarise each.
import type { Duplex } from 'node:stream';
import type { MemberProbe } from '../model/report.js';
import { ForwardError, type SshSession } from '../remote/ssh-session.js';
import { BodyTracker, BODY_LIMIT_BYTES, framingOf } from './http-body.js';
import { httpExchange, httpRequest, parseHead, type BodyRead } from './http-exchange.js';
import { tcpConnect } from './tcp-connect.js';

export interface MemberTarget {
  host: string;
  port: number;
  protocol: 'http' | 'tcp';
  /** The health path to request (the VIP's httpPath). */
  path: string;
  /** GET by default; HEAD asks for a reply that fits in one small segment (the MTU test). */
  method?: 'GET' | 'HEAD';
}

/** L4OK / L4CON / L4TOUT / L7OK / L7STS / L7TOUT / L7RSP, as HAProxy names check results. */
export function checkCode(p: MemberProbe, protocol: 'http' | 'tcp'): string | undefined {
  if (p.outcome === 'refused') return 'L4CON';
  if (p.outcome === 'timeout') return 'L4TOUT';
  if (p.outcome !== 'connected') return undefined;
  if (protocol === 'tcp') return 'L4OK';
  if (p.httpStatus === undefined) return p.detail === 'silent' ? 'L7TOUT' : 'L7RSP';
  // A head whose body never completed: a timeout while it stalled, an invalid response when it was cut short.
  if (p.body?.end === 'stalled') return 'L7TOUT';
  if (p.body?.end === 'closed-early' || p.body?.end === 'reset') return 'L7RSP';
  return p.httpStatus < 400 ? 'L7OK' : 'L7STS';
}

async function httpOver(stream: Duplex, m: MemberTarget, timeoutMs: number, probe: MemberProbe): Promise<MemberProbe> {
  const x = await httpExchange(stream, httpRequest(m.host, { path: m.path, method: m.method ?? 'GET' }), timeoutMs);
  stream.destroy();
  if (x.status !== undefined) return { ...probe, httpStatus: x.status, ...(x.body ? { body: x.body } : {}) };
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
  'printf "%s %s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" "$4" "$3" "$1" >&3',
  // The whole response, bounded: a head whose body stalls is not a working member.
  `head -c ${BODY_LIMIT_BYTES + 16_384} <&3`,
].join('; ');

/**
 * The body as the remote command's output shows it. The output arrives decoded as UTF-8, so a binary body's count
 * can only come out at or above its real size (a replaced byte counts three): a complete body is never judged cut.
 */
function bodyFromOutput(stdout: string, method: string, closed: boolean, ms: number): BodyRead | undefined {
  const headEnd = stdout.indexOf('\r\n\r\n');
  const head = parseHead(stdout);
  if (headEnd < 0 || head?.status === undefined) return undefined;
  const tracker = new BodyTracker(framingOf(head.status, method, head.headers), head.headers);
  tracker.push(Buffer.from(stdout.slice(headEnd + 4), 'utf8'));
  if (closed) tracker.closed();
  const s = tracker.state;
  const end = s.complete ? 'complete' : s.limited ? 'limit' : closed ? 'closed-early' : 'stalled';
  return {
    framing: s.framing,
    end,
    bytes: s.bytes,
    ...(s.expected !== undefined ? { expected: s.expected } : {}),
    lastByteMs: ms,
  };
}

async function probeByCommand(session: SshSession, m: MemberTarget, timeoutMs: number): Promise<MemberProbe> {
  const started = performance.now();
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const r = await session.run(
    [
      'timeout',
      String(seconds),
      'bash',
      '-c',
      REMOTE_PROBE,
      'lbcheck',
      m.host,
      String(m.port),
      m.path,
      m.method ?? 'GET',
    ],
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
  const body = status ? bodyFromOutput(r.stdout, m.method ?? 'GET', r.code === 0, ms) : undefined;
  const probe: MemberProbe = {
    ...base,
    outcome: 'connected',
    ...(status ? { httpStatus: Number(status[1]) } : {}),
    ...(body ? { body } : {}),
  };
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
