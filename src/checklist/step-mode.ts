// Step 2: how does the LB handle the connection? L4 or L7 from the capture,
// then what it does with GET /.
import type { Packet } from '../capture/packet.js';
import type { HttpExchange } from '../probe/http-exchange.js';
import type { ConnectResult } from '../probe/tcp-connect.js';
import { decideMode, type FlowAnalysis } from './flow-analysis.js';
import { fingerprintProxy } from './fingerprint.js';
import type { Behaviour, ModeStep } from './report.js';

export interface ModeInput {
  vip: string;
  port: number;
  connect: ConnectResult;
  exchange: HttpExchange | undefined;
  /** null when there was no LB capture. */
  analysis: FlowAnalysis | null;
  tls?: ModeStep['tls'];
}

export type ModeDecisionStep = Omit<ModeStep, 'evidence' | 'ms'> & { deciding: Packet[] };

function behaviourOf(input: ModeInput): Behaviour {
  if (input.connect.outcome !== 'connected') return input.connect.outcome === 'refused' ? 'refused' : 'not-connected';
  return input.exchange?.behaviour ?? 'not-connected';
}

function describeExchange(x: HttpExchange | undefined, b: Behaviour): string {
  switch (b) {
    case 'http-response':
      return `answered GET / with "${x?.statusLine ?? `HTTP ${x?.status}`}" after ${x?.firstByteMs ?? '?'} ms`;
    case 'reset':
      return `reset the connection ${x?.endMs ?? '?'} ms after GET /, without a byte`;
    case 'closed':
      return `closed the connection ${x?.endMs ?? '?'} ms after GET / without sending a byte`;
    case 'silent':
      return `sent nothing for ${x?.endMs ?? '?'} ms after GET / (held the connection open, silent)`;
    case 'non-http':
      return `answered GET / with ${x?.bytes ?? 0} bytes that are not HTTP`;
    default:
      return 'never accepted the connection';
  }
}

export function decideModeStep(input: ModeInput): ModeDecisionStep {
  const behaviour = behaviourOf(input);
  const x = input.exchange;
  const target = `${input.vip}:${input.port}`;
  const a = input.analysis;
  const decision = a ? decideMode(a) : { mode: 'unknown' as const, reason: 'no LB capture' };
  const proxyKind =
    decision.mode === 'L7'
      ? (decision.proxyKind ?? (x?.behaviour === 'http-response' ? 'http' : x ? 'tcp' : null))
      : null;
  const fingerprint = x ? fingerprintProxy(x) : undefined;
  const clientAddress = a?.clientAddress;
  const serverSide = (a?.serverSide ?? []).map((s) => ({
    address: s.address,
    port: s.port,
    sameIsn: s.sameIsn,
    answered: s.answered,
    sourceIsClient: s.src === clientAddress,
  }));
  const base = {
    step: 2 as const,
    name: 'mode' as const,
    mode: decision.mode,
    proxyKind,
    behaviour,
    serverSide,
    timings: {
      connectMs: input.connect.ms,
      ...(x?.firstByteMs !== undefined ? { firstByteMs: x.firstByteMs } : {}),
      ...(x ? { endMs: x.endMs } : {}),
    },
    ...(x?.status !== undefined ? { httpStatus: x.status } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    ...(input.tls ? { tls: input.tls } : {}),
    deciding: a?.deciding ?? [],
  };
  const modeText =
    decision.mode === 'L4'
      ? 'Layer 4 forwarder'
      : decision.mode === 'L7'
        ? `Layer 7 ${proxyKind ?? ''} proxy`.replace('  ', ' ')
        : 'mode unknown';
  const why = `${modeText}: ${decision.reason}.`;

  if (input.connect.outcome !== 'connected') {
    const forwarded = serverSide.find((s) => s.sameIsn);
    if (forwarded) {
      const fate = forwarded.answered
        ? 'answered'
        : a?.serverSide.find((s) => s.sameIsn)?.refused
          ? 'refused it'
          : 'never answered through the LB';
      return {
        ...base,
        verdict: 'warn',
        summary: `${why} The server ${forwarded.address}:${forwarded.port} ${fate}; the client ${input.connect.outcome === 'refused' ? 'was refused' : 'timed out'}. Step 3 checks the servers.`,
      };
    }
    if (a === null) {
      return {
        ...base,
        verdict: 'inconclusive',
        summary: `The client ${behaviour === 'refused' ? 'was refused' : 'did not connect'} and there is no LB capture to say why.`,
      };
    }
    if (a.vipAnswer?.tcp?.flags.rst) {
      return {
        ...base,
        verdict: 'fail',
        summary: `The LB itself refused ${target} with a reset, without trying any server: nothing listens on the VIP (virtual server down, disabled, or on another port).`,
      };
    }
    return {
      ...base,
      verdict: 'fail',
      summary: `The LB received the SYN for ${target} but neither answered nor passed it to a server (VIP disabled, a firewall on the LB, or no pool configured).`,
    };
  }

  const what = `The LB ${describeExchange(x, behaviour)}${fingerprint ? ` (${fingerprint})` : ''}.`;
  if (behaviour === 'http-response' && (x?.status ?? 0) < 500)
    return { ...base, verdict: 'pass', summary: `${why} ${what}` };
  if (behaviour === 'http-response') {
    return {
      ...base,
      verdict: 'warn',
      summary: `${why} ${what} A ${x?.status} from the LB means it had no working server for the request; step 3 checks the servers.`,
    };
  }
  if (behaviour === 'non-http') return { ...base, verdict: 'pass', summary: `${why} ${what}` };
  return {
    ...base,
    verdict: 'warn',
    summary: `${why} ${what} ${decision.mode === 'L7' ? 'A proxy that accepts and then gives nothing usually has no server to pass to' : 'The server side gave nothing'}; step 3 checks the servers.`,
  };
}
