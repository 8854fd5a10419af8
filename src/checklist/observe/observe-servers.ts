// The I/O of step 3: every pool member probed from the LB (over SSH) and
// directly, in parallel. The pool is the inventory's plus whatever the LB
// really used for this probe (seen in the capture), so a pool that drifted
// from the inventory is probed too. Observes only; step-servers.ts decides.
import { probeDirect, probeFromLb } from '../../probe/member-probe.js';
import type { SshSession } from '../../remote/ssh-session.js';
import { formatEndpoint } from '../../model/endpoint-text.js';
import { isIP } from 'node:net';
import { commandLine } from '../../remote/shell-quote.js';
import { DEFAULT_CAPTURE_LIMITS, RemoteCapture } from '../../capture/remote-capture.js';
import { memberAnswersFilter } from '../../capture/capture-filter.js';
import { ignoredSynAcks } from '../decide/ignored-answers.js';
import type { ResolvedTarget } from '../../target/check-target.js';
import { parseView, viewCommand, type LbView } from '../lb-view.js';
import type { ServersObservation } from '../observation.js';
import type { MemberProbe, MemberResult, ModeStep } from '../../model/report.js';
import { memberOk } from '../decide/step-servers.js';

interface MemberToProbe {
  host: string;
  port: number;
  source: MemberResult['source'];
}

/**
 * Configured members first, then endpoints the LB used that the inventory does
 * not list, then the rest of the pool as the LB's own configuration lists it:
 * the pool the LB really uses is probed whatever the inventory says.
 */
export function membersToProbe(target: ResolvedTarget, mode: ModeStep | undefined, view?: LbView): MemberToProbe[] {
  const out: MemberToProbe[] = target.members.map((m) => ({ ...m, source: 'configured' as const }));
  const known = new Set(out.map((m) => formatEndpoint(m)));
  const add = (host: string, port: number, source: MemberResult['source']): void => {
    const m = { host, port, source };
    if (known.has(formatEndpoint(m))) return;
    known.add(formatEndpoint(m));
    out.push(m);
  };
  for (const s of mode?.serverSide ?? []) add(s.address, s.port, 'discovered');
  for (const v of view?.pool ?? []) {
    const e = endpointOf(v.address);
    if (e) add(e.host, e.port, 'lb-config');
  }
  return out;
}

/** "host:port" from an LB's configuration, when it is an IP and a port (names are not probed). */
function endpointOf(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([0-9a-fA-F:.]+?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  return m?.[1] && isIP(m[1]) !== 0 && port > 0 && port < 65536 ? { host: m[1], port } : undefined;
}

async function readView(session: SshSession, target: ResolvedTarget): Promise<LbView | undefined> {
  if (!target.lbView) return undefined;
  const argv = viewCommand(target.lbView, session.sudo);
  const r = await session.run(argv, 10_000).catch((err: Error) => ({ code: null, stdout: '', stderr: err.message }));
  return parseView(target.lbView, commandLine(argv), r, target.vip, target.port);
}

async function probeMember(
  m: MemberToProbe,
  target: ResolvedTarget,
  session: SshSession | undefined,
  timeoutMs: number,
  sourceAddress: string | undefined,
): Promise<MemberResult> {
  const t = { host: m.host, port: m.port, protocol: target.protocol, path: target.httpPath };
  const [direct, fromLb] = await Promise.all([
    probeDirect(t, timeoutMs, sourceAddress),
    session
      ? probeFromLb(session, t, timeoutMs)
      : Promise.resolve<MemberProbe>({ outcome: 'not-checked', detail: 'no SSH access to the LB' }),
  ]);
  const result: MemberResult = { address: formatEndpoint(m), direct, fromLb, source: m.source };
  const decisive = fromLb.outcome === 'not-checked' ? direct : fromLb;
  if (decisive.httpStatus !== undefined) result.httpStatus = decisive.httpStatus;
  if (decisive.code !== undefined) result.code = decisive.code;
  return result;
}

/** At most this many blocked members get the watched second connection (each is a capture on the LB). */
const WATCHED_MEMBERS = 4;
const WATCH_MS = 2500;

/**
 * Connects from the LB to a member once more with a capture on the LB watching for the member's SYN-ACKs: how
 * many arrived while the LB's connection timed out (undefined when the capture could not run).
 */
async function answersReachingLb(
  session: SshSession,
  iface: string,
  m: MemberToProbe,
  target: ResolvedTarget,
  timeoutMs: number,
): Promise<number | undefined> {
  const capture = await RemoteCapture.start(session, {
    ...DEFAULT_CAPTURE_LIMITS,
    iface,
    maxPackets: 100,
    maxSeconds: Math.ceil(Math.max(timeoutMs, WATCH_MS) / 1000) + 5,
    ...memberAnswersFilter(m.host, m.port),
  }).catch(() => undefined);
  if (!capture) return undefined;
  const member = { host: m.host, port: m.port, protocol: target.protocol, path: target.httpPath };
  // Long enough for the LB to send its SYN again (1 s after the first): the retransmission is the proof.
  const again = await probeFromLb(session, member, Math.max(timeoutMs, WATCH_MS)).catch(() => undefined);
  const ended = await capture.stop();
  // Only a second timeout is the same failure, watched.
  return again?.outcome === 'timeout' ? ignoredSynAcks(ended.packets, m.host, m.port) : undefined;
}

/**
 * A member whose response arrives whole directly but not from the LB (its body cut short, or no answer on a
 * connection that opened): asked once more from the LB with HEAD, whose reply fits in one small segment. Small
 * replies passing while full ones stall is how an MTU black hole between the LB and the member shows.
 */
const stallsFromLbOnly = (r: MemberResult, protocol: 'http' | 'tcp'): boolean =>
  protocol === 'http' &&
  r.fromLb.outcome === 'connected' &&
  !memberOk(r.fromLb, protocol) &&
  (r.fromLb.httpStatus === undefined || r.fromLb.httpStatus < 500) &&
  memberOk(r.direct, protocol);

async function smallReplyFromLb(
  session: SshSession,
  m: MemberToProbe,
  target: ResolvedTarget,
  timeoutMs: number,
): Promise<MemberProbe | undefined> {
  const member = {
    host: m.host,
    port: m.port,
    protocol: target.protocol,
    path: target.httpPath,
    method: 'HEAD' as const,
  };
  return probeFromLb(session, member, timeoutMs).catch(() => undefined);
}

/** The LB's source address towards a host, from `ip -o route get` on the LB (read-only). */
async function lbSourceAddress(session: SshSession, host: string): Promise<string | undefined> {
  const r = await session.run(['ip', '-o', 'route', 'get', host], 5000).catch(() => undefined);
  const src = r?.code === 0 ? /\bsrc (\S+)/.exec(r.stdout)?.[1] : undefined;
  return src;
}

export async function observeServers(
  target: ResolvedTarget,
  mode: ModeStep | undefined,
  session: SshSession | undefined,
  timeoutMs: number,
  /** The vantage point's own address: the direct probes go from there too. */
  sourceAddress?: string,
): Promise<ServersObservation> {
  const started = performance.now();
  const lbView = session ? await readView(session, target) : undefined;
  const probed = await Promise.all(
    membersToProbe(target, mode, lbView).map(async (m) => ({
      host: m.host,
      member: m,
      result: await probeMember(m, target, session, timeoutMs, sourceAddress),
    })),
  );
  const lbSourceAddresses: Record<string, string> = {};
  // Only for members the LB cannot reach but this machine can: the firewall
  // team then needs the exact address to allow.
  const blocked = probed.filter(
    ({ result }) => !memberOk(result.fromLb, target.protocol) && memberOk(result.direct, target.protocol),
  );
  // All at once: each is a remote command, and each would otherwise wait for the LB's login shell in turn.
  const hosts = [...new Set(blocked.map((b) => b.host))];
  // A timeout from the LB alone cannot say whether the answer never came or came and was dropped on the LB.
  const watched = blocked.filter(({ result }) => result.fromLb.outcome === 'timeout').slice(0, WATCHED_MEMBERS);
  const iface = target.lb?.captureInterface ?? DEFAULT_CAPTURE_LIMITS.iface;
  const sources = session ? await Promise.all(hosts.map((host) => lbSourceAddress(session, host))) : [];
  // After the route lookups, not beside them: each capture is an exec channel too, and with the warm ones all of
  // them at once could pass OpenSSH's MaxSessions (10), which would refuse a capture and lose the second look.
  const answers = session
    ? await Promise.all(watched.map((w) => answersReachingLb(session, iface, w.member, target, timeoutMs)))
    : [];
  const stalling = session ? probed.filter(({ result }) => stallsFromLbOnly(result, target.protocol)) : [];
  const small = session
    ? await Promise.all(stalling.map((p) => smallReplyFromLb(session, p.member, target, timeoutMs)))
    : [];
  stalling.forEach((p, i) => {
    const probe = small[i];
    if (probe) p.result.smallReplyFromLb = probe;
  });
  hosts.forEach((host, i) => {
    const src = sources[i];
    if (src) lbSourceAddresses[host] = src;
  });
  watched.forEach((w, i) => {
    const n = answers[i];
    if (n !== undefined) w.result.answersReachLb = n;
  });
  const members = probed.map((p) => p.result);
  return {
    members,
    lbChecked: session !== undefined,
    lbSourceAddresses,
    ...(lbView ? { lbView } : {}),
    ms: Math.round(performance.now() - started),
  };
}
