// Step 2: how does the LB handle the connection? L4 or L7 from the capture,
// then what it does with the request, judged in the light of step 1's facts
// (a later step never contradicts an earlier one).
import { hostPort } from '../../model/endpoint-text.js';
import type { Packet } from '../../capture/packet.js';
import { httpRequest, type HttpExchange } from '../../probe/http-exchange.js';
import { analyzeFlows, decideMode, type FlowAnalysis, type ModeDecision } from './flow-analysis.js';
import { fingerprintProxy } from './fingerprint.js';
import { connectedBeforeRequest } from './early-connect.js';
import type { ModeObservation, ObservedTarget } from '../observation.js';
import type { Behaviour, ModeFinding, ModeStep, ReachStep, Verdict } from '../../model/report.js';
import { judgeTls } from './tls-judgement.js';
import { bodyCutShort } from '../../probe/http-body.js';
import { cutShortWords, slow } from './response-judgement.js';
import { captureShortfall } from './step-reach.js';

export type ModeDecisionStep = Omit<ModeStep, 'evidence'> & { deciding: Packet[] };

interface Judged {
  verdict: Verdict;
  summary: string;
  finding?: ModeFinding;
}

interface ModeContext {
  target: ObservedTarget;
  reach: Pick<ReachStep, 'outcome' | 'lbSawSyn' | 'probe' | 'finding' | 'handledBy'>;
  obs: ModeObservation;
  observedAt: Date;
  analysis: FlowAnalysis | null;
  decision: ModeDecision;
  behaviour: Behaviour;
  /** "the LB" with a capture proving it; "the VIP" without. */
  who: string;
  why: string;
}

function behaviourOf(reach: ModeContext['reach'], x: HttpExchange | undefined): Behaviour {
  if (reach.outcome !== 'connected') return reach.outcome === 'refused' ? 'refused' : 'not-connected';
  return x?.behaviour ?? 'not-connected';
}

function describeExchange(x: HttpExchange | undefined, b: Behaviour, path: string): string {
  const req = `GET ${path}`;
  switch (b) {
    case 'http-response':
      return (
        `answered ${req} with "${x?.statusLine ?? `HTTP ${x?.status}`}" after ${x?.firstByteMs ?? '?'} ms` +
        (x?.body && bodyCutShort(x.body) ? `, but ${cutShortWords(x.body)} (${x.endMs} ms in all)` : '')
      );
    case 'reset':
      return `reset the connection ${x?.endMs ?? '?'} ms after ${req}, without a byte`;
    case 'closed':
      return `closed the connection ${x?.endMs ?? '?'} ms after ${req} without sending a byte`;
    case 'silent':
      return `sent nothing for ${x?.endMs ?? '?'} ms after ${req} (held the connection open, silent)`;
    case 'non-http':
      return `answered ${req} with ${x?.bytes ?? 0} bytes that are not HTTP`;
    default:
      return 'never accepted the connection';
  }
}

function modeText(d: ModeDecision, proxyKind: ModeStep['proxyKind']): string {
  if (d.mode === 'L4') return 'Layer 4 forwarder';
  if (d.mode === 'L7') return proxyKind ? `Layer 7 ${proxyKind} proxy` : 'Layer 7 proxy';
  return 'Mode unknown';
}

const inRange = (status: number, t: ObservedTarget): boolean =>
  status >= t.expectStatus.min && status <= t.expectStatus.max;

/** The LB passed the client's SYN on unchanged and never answered it itself. */
const directServerReturn = (a: FlowAnalysis | null): boolean => a?.passedOn !== undefined && !a.vipAnswer;

/** Judged when the client's connection did not complete. */
function notConnected(c: ModeContext): Judged {
  const forwarded = c.analysis?.serverSide.find((s) => s.sameIsn);
  const client = c.reach.outcome === 'refused' ? 'was refused' : 'timed out';
  // A SYN-ACK left the LB toward the client: the LB did its part, and step 1 says what became of the answer.
  if (c.reach.outcome === 'timeout' && c.analysis?.vipAnswer?.tcp?.flags.syn) {
    const answer = forwarded
      ? `${c.why} It forwarded the client's SYN to ${hostPort(forwarded.address, forwarded.port)}, which ` +
        'answered, and ' +
        'passed the answer back toward the client,'
      : "The LB answered the client's SYN itself (a SYN-ACK),";
    return {
      verdict: 'inconclusive',
      summary:
        `${answer} but the client did not connect (step 1 says what is known of why): with no connection, what ` +
        'the LB does with a request cannot be seen.',
    };
  }
  if (forwarded) {
    const fate = forwarded.answered
      ? 'answered, but the answer never came back through the LB'
      : forwarded.refused
        ? 'refused it (a reset the LB passed back to the client)'
        : 'never answered';
    return {
      verdict: 'warn',
      finding: 'forwarded-unanswered',
      summary:
        `${c.why} It forwarded the client's SYN to ${hostPort(forwarded.address, forwarded.port)}, which ${fate}; ` +
        `the client ${client}. Step 3 checks the servers.`,
    };
  }
  if (c.analysis === null) {
    return {
      verdict: 'inconclusive',
      summary: `The client ${client} and there is no LB capture to say why.`,
    };
  }
  if (directServerReturn(c.analysis)) {
    // The answer never passes the LB with direct server return: its absence here says nothing against the LB.
    return {
      verdict: 'warn',
      finding: 'dsr-unanswered',
      summary:
        `${c.why} The LB did its part; the client ${client}. Behind it, a server got the SYN and did not ` +
        "answer the client (the VIP missing on the server's loopback, its ARP settings, or its firewall), or its " +
        'answer, which goes straight to the client, was lost on that way back (a stateful firewall that never ' +
        `saw the SYN drops the SYN-ACK). \`tcpdump -ni any host ${c.target.vip}\` on a member shows which. ` +
        'Step 3 checks the servers.',
    };
  }
  if (c.analysis.vipAnswer?.tcp?.flags.rst) {
    return {
      verdict: 'fail',
      finding: 'vip-refused',
      summary:
        `The LB itself refused ${hostPort(c.target.vip, c.target.port)} with a reset, without trying any server: ` +
        `nothing listens on the VIP (virtual server down, disabled, or on another port).`,
    };
  }
  const gap = captureGap(c, client);
  if (gap) return gap;
  if (c.obs.lbFacts.ipForward === '0') {
    return {
      verdict: 'fail',
      finding: 'not-forwarding',
      summary:
        `The LB received the SYN for ${hostPort(c.target.vip, c.target.port)} but passed nothing on and never ` +
        `answered: IP forwarding is off on the LB (net.ipv4.ip_forward = 0), so a packet-forwarding (L4) virtual ` +
        `cannot reach any server.`,
    };
  }
  return {
    verdict: 'fail',
    finding: 'syn-dropped-on-lb',
    summary:
      `The LB received the SYN for ${hostPort(c.target.vip, c.target.port)} but neither answered nor passed it to ` +
      `a server: the LB drops it itself (a host firewall rule on the LB, a disabled virtual, or an L4 virtual ` +
      `with no route to its pool).`,
  };
}

/**
 * What notConnected's last verdicts read from packets missing from the LB capture (no answer from the LB, nothing
 * passed on): a capture that lost packets or ended early cannot show they were missing (DESIGN: a cap before the
 * deciding packet is inconclusive, never a failure).
 */
function captureGap(c: ModeContext, client: string): Judged | undefined {
  const shortfall = c.obs.lb ? captureShortfall(c.obs.lb) : undefined;
  if (!shortfall) return undefined;
  return {
    verdict: 'inconclusive',
    summary:
      `${c.why} The capture shows neither an answer from the LB nor the SYN passed to a server, but ` +
      `${shortfall}, so either may have happened unseen; the client ${client}. Run the check again, or capture ` +
      'on a quieter interface (captureInterface).',
  };
}

/** What the SSH stream from the LB did: a capture that never drained may be missing any packet. */
const captureStalled = (c: ModeContext): boolean => c.obs.lb?.endedBy === 'unfinished';

const MTU_ADVICE =
  ' Hand it to the network team: allow ICMP type 3 code 4 (and ICMPv6 packet-too-big) back to the sender, or ' +
  'clamp the MSS on that hop.';

function stalledTrace(c: ModeContext): Judged | undefined {
  const s = c.analysis?.stalled;
  // A head that arrived with its whole body leaves nothing stalled to explain.
  if (c.behaviour === 'http-response' && !bodyCutShort(c.obs.exchange?.body)) return undefined;
  const head = c.obs.reprobes.head;
  const smallOk = head?.behaviour === 'http-response';
  if (!s && captureStalled(c) && smallOk && c.behaviour === 'silent') {
    // The packets that would show it are stuck in the same stalled stream: the
    // evidence is the pattern itself. Small answers pass, large ones vanish.
    return {
      verdict: 'fail',
      finding: 'mtu-black-hole',
      summary:
        `${c.why} The request got through but the reply never came (silent for ` +
        `${c.obs.exchange?.endMs ?? '?'} ms), while a HEAD request, whose reply fits in one small packet, was ` +
        `answered (${head.statusLine ?? head.status}); and the capture stream from the LB over SSH stalled the ` +
        `same way, on the same path. Small packets pass and full-size ones vanish: an MTU black hole between ` +
        `lbcheck's network and the LB (a hop with a smaller MTU whose ICMP "fragmentation needed" is ` +
        `filtered).${MTU_ADVICE}`,
    };
  }
  if (!s) return undefined;
  return {
    verdict: 'fail',
    finding: 'mtu-black-hole',
    summary:
      `${c.why} The handshake and the request got through, but the reply did not: the LB sent ${s.segments} ` +
      `full-size segment${s.segments === 1 ? '' : 's'} (up to ${s.largest} bytes of ` +
      `payload)${s.sends > s.segments ? `, ${s.sends} times in all over ${s.spanMs} ms,` : ''} and the client ` +
      `never acknowledged ${s.segments === 1 ? 'it' : 'them'}. ` +
      `That is an MTU black hole between the client and the LB: a hop with a smaller MTU drops full-size packets ` +
      `and its ICMP "fragmentation needed" is filtered, so the LB never learns to send smaller ones.` +
      (smallOk
        ? ` A HEAD request, whose reply fits in one small packet, was answered (${head.statusLine ?? head.status}).`
        : '') +
      MTU_ADVICE,
  };
}

/** Conclusions drawn from packets that are absent are void when the capture may have lost them. */
function stalledCapture(c: ModeContext): Judged | undefined {
  if (!captureStalled(c)) return undefined;
  return {
    verdict: 'inconclusive',
    finding: 'capture-stalled',
    summary:
      `${c.why} ${c.who} ${describeExchange(c.obs.exchange, c.behaviour, c.target.httpPath)}. The capture ` +
      `stream from the LB over SSH stalled and never drained, so packets after some point are missing and nothing ` +
      `can be concluded from what the capture does not show. The path between lbcheck and the LB loses packets ` +
      `(often full-size ones: an MTU black hole); check it, or run lbcheck from a vantage point with a clean ` +
      `path to the LB.`,
  };
}

function proxyProtocol(c: ModeContext): Judged | undefined {
  const v1 = c.obs.reprobes.proxyV1;
  if (!v1 || (c.behaviour !== 'closed' && c.behaviour !== 'reset') || v1.behaviour !== 'http-response')
    return undefined;
  return {
    verdict: 'fail',
    finding: 'proxy-protocol-expected',
    summary:
      `${c.why} It ${describeExchange(c.obs.exchange, c.behaviour, c.target.httpPath)}, but answered ` +
      `"${v1.statusLine ?? v1.status}" when the same request came after a PROXY protocol v1 header: the VIP's ` +
      `frontend expects the PROXY protocol (e.g. HAProxy "accept-proxy", nginx "listen ... proxy_protocol"), ` +
      `which plain clients do not send. Either the device in front of the LB must send it, or the frontend ` +
      `must stop expecting it.`,
  };
}

/** The server-side connection that carried this probe's request, if the capture shows one. */
function proxiedFlow(c: ModeContext): FlowAnalysis['serverSide'][number] | undefined {
  return c.analysis?.serverSide.find((s) => s.carriesMarker) ?? c.analysis?.serverSide.find((s) => s.sameIsn);
}

/**
 * The head arrived and the body stopped (no MTU trace toward the client explains it: stalledTrace ran first). Not
 * a pass, and not yet a culprit: where it stops is what step 3 compares (each member's response from the LB and
 * directly), and what the capture says the server sent the LB on the proxied connection points the same way.
 */
function incompleteResponse(c: ModeContext, what: string): Judged {
  const flow = proxiedFlow(c);
  const expected = c.obs.exchange?.body?.expected;
  const head = c.obs.reprobes.head;
  const small =
    head?.status !== undefined && head.body?.end === 'complete'
      ? ' A HEAD request to the VIP, whose reply fits in one small segment, got its whole answer ' +
        `(${head.statusLine ?? head.status}).`
      : '';
  const leg =
    !flow || expected === undefined
      ? ''
      : flow.responseBytes < expected
        ? ` On the proxied connection ${hostPort(flow.address, flow.port)} delivered only ` +
          `${flow.responseBytes} bytes to ` +
          `the LB (the largest packet ${flow.largestSegment} bytes of payload), less than the ${expected}-byte ` +
          'body alone: the body stops before the LB, between it and the server.'
        : ` On the proxied connection ${hostPort(flow.address, flow.port)} sent the LB ` +
          `${flow.responseBytes} bytes, the ` +
          'whole body: it stops at the LB or after it.';
  return {
    verdict: 'warn',
    finding: 'response-incomplete',
    summary:
      `${c.why} ${what} A page that starts and never finishes is broken for users.${small}${leg} Step 3 compares ` +
      `each member's response from the LB and directly.`,
  };
}

function answered(c: ModeContext, what: string): Judged {
  const x = c.obs.exchange;
  const status = x?.status ?? 0;
  const flow = proxiedFlow(c);
  if (bodyCutShort(x?.body)) return incompleteResponse(c, what);
  if (status >= 500) {
    const passed = flow?.responseStatus === status;
    const origin = passed
      ? `The status came from ${hostPort(flow.address, flow.port)} itself (the LB passed the server's answer through).`
      : `A ${status} from the LB itself means it had no working server for the request.`;
    return {
      verdict: 'warn',
      finding: 'server-error',
      summary: `${c.why} ${what} ${origin} Step 3 checks the servers.`,
    };
  }
  if (!inRange(status, c.target)) {
    const range = `${c.target.expectStatus.min}–${c.target.expectStatus.max}`;
    return {
      verdict: 'warn',
      finding: 'unexpected-status',
      summary:
        `${c.why} ${what} The VIP's health path ${c.target.httpPath} is expected to answer ${range}; ` +
        `${status} is not in that range.`,
    };
  }
  if (slow(x?.body)) {
    return {
      verdict: 'warn',
      finding: 'slow-response',
      summary:
        `${c.why} ${what} The whole response (${x?.body?.bytes} body bytes) took ${x?.body?.lastByteMs} ms to ` +
        'arrive: slow, though complete.',
    };
  }
  return { verdict: 'pass', summary: `${c.why} ${what}` };
}

function gaveNothing(c: ModeContext, what: string): Judged {
  const flow = proxiedFlow(c);
  if (c.behaviour === 'silent' && flow?.carriesMarker && flow.answered && flow.responseBytes === 0) {
    return {
      verdict: 'warn',
      finding: 'server-hang',
      summary:
        `${c.why} ${what} The LB passed the request on to ${hostPort(flow.address, flow.port)}, which accepted the ` +
        `connection and has sent nothing back: the server holds the request without answering. Step 3 checks the ` +
        `servers.`,
    };
  }
  const cause =
    c.decision.mode === 'L7'
      ? 'A proxy that accepts and then gives nothing usually has no server to pass to'
      : 'The server side gave nothing';
  const finding: ModeFinding = c.behaviour === 'silent' ? 'silent' : c.behaviour === 'reset' ? 'reset' : 'closed';
  return { verdict: 'warn', finding, summary: `${c.why} ${what} ${cause}; step 3 checks the servers.` };
}

/**
 * Bytes that are not HTTP in answer to GET: what a TCP service does (a pass for a VIP checked as tcp), but a VIP
 * checked as HTTP did not answer as one, so it is not "handled" (a TLS port probed as plain HTTP, another service
 * on the port, a proxy speaking something else to this client).
 */
function notHttp(c: ModeContext, what: string): Judged {
  if (c.target.protocol === 'tcp') return { verdict: 'pass', summary: `${c.why} ${what}` };
  return {
    verdict: 'warn',
    summary:
      `${c.why} ${what} The VIP is checked as HTTP, so this is not the answer it should give: plain HTTP on a ` +
      'TLS port (give the VIP tls in the inventory), another service on the port, or a VIP that is not HTTP ' +
      '(give it protocol: tcp in the inventory, or --protocol tcp).',
  };
}

function judgeConnected(c: ModeContext): Judged {
  if (c.obs.tlsError) {
    return {
      verdict: 'fail',
      finding: 'tls-handshake-failed',
      summary:
        `The TCP connection to ${hostPort(c.target.vip, c.target.port)} completed, but the TLS handshake (SNI ` +
        `${c.target.sni ?? c.target.vip}) failed: ${c.obs.tlsError}. Check the virtual's TLS profile (certificate ` +
        `for that name, protocol versions, ciphers).`,
    };
  }
  const tls = c.obs.tls ? judgeTls(c.obs.tls, c.observedAt) : undefined;
  if (tls?.verdict === 'fail') return { verdict: 'fail', finding: tls.finding, summary: `${c.why} ${tls.text}` };
  const found = stalledTrace(c) ?? stalledCapture(c) ?? proxyProtocol(c);
  if (found) return found;
  const fingerprint = c.obs.exchange ? fingerprintProxy(c.obs.exchange) : undefined;
  const product = fingerprint ? ` (${fingerprint})` : '';
  const what = `${c.who} ${describeExchange(c.obs.exchange, c.behaviour, c.target.httpPath)}${product}.`;
  const judged =
    c.behaviour === 'http-response'
      ? answered(c, what)
      : c.behaviour === 'non-http'
        ? notHttp(c, what)
        : gaveNothing(c, what);
  if (tls && judged.verdict === 'pass')
    return { verdict: 'warn', finding: tls.finding, summary: `${judged.summary} ${tls.text}` };
  return tls ? { ...judged, summary: `${judged.summary} ${tls.text}` } : judged;
}

/**
 * A proxy that passed no request on: answering in HTTP itself (a 503, a redirect) shows it speaks HTTP. Closing,
 * resetting or staying silent proves no kind (a TCP proxy without servers does it, and so does an HTTP proxy that
 * expects the PROXY protocol or waits on a server it cannot reach), so the kind stays open, as it does when the
 * proxied flow left it open (see decideMode).
 */
function kindWithoutProxiedFlow(analysis: FlowAnalysis | null, x: HttpExchange | undefined): ModeStep['proxyKind'] {
  if (analysis?.serverSide.some((s) => s.carriesMarker)) return null;
  return x?.behaviour === 'http-response' ? 'http' : null;
}

/** What the LB's capture says of the probe's connection: its flows, L4 or L7, and the proxy's kind. */
function analyseCapture(
  target: ObservedTarget,
  reach: ModeContext['reach'],
  obs: ModeObservation,
): { analysis: FlowAnalysis | null; decision: ModeDecision; proxyKind: ModeStep['proxyKind'] } {
  const sent = obs.request ? { sent: httpRequest(obs.request.host, obs.request) } : {};
  const analysis = obs.lb
    ? analyzeFlows(obs.lb.packets, {
        vip: target.vip,
        port: target.port,
        sourcePort: reach.probe.sourcePort,
        marker: obs.request?.marker ?? '',
        ...sent,
      })
    : null;
  const decided: ModeDecision = analysis ? decideMode(analysis) : { mode: 'unknown', reason: 'no LB capture' };
  const early = obs.lb && analysis ? earlyConnectDecision(obs.lb.packets, analysis, decided, target) : undefined;
  const decision = early?.decision ?? decided;
  const proxyKind =
    decision.mode === 'L7' ? (decision.proxyKind ?? kindWithoutProxiedFlow(analysis, obs.exchange)) : null;
  // The early connection decided the kind: it belongs with the packets that decided.
  const withEarly =
    analysis && early
      ? { ...analysis, deciding: [...analysis.deciding, early.syn].sort((p, q) => p.index - q.index) }
      : analysis;
  return { analysis: withEarly, decision, proxyKind };
}

/**
 * A proxy whose kind its proxied flow left open (none carried the request: every member refused or silent) that
 * connected to a member before the client sent a byte is a TCP proxy: an HTTP proxy cannot know where to connect
 * before it reads a request.
 */
function earlyConnectDecision(
  packets: readonly Packet[],
  analysis: FlowAnalysis,
  decided: ModeDecision,
  target: ObservedTarget,
): { decision: ModeDecision; syn: Packet } | undefined {
  if (decided.mode !== 'L7' || decided.proxyKind !== null) return undefined;
  const members = target.members.map((m) => ({ address: m.host, port: m.port }));
  const early = connectedBeforeRequest(packets, analysis, members);
  if (!early) return undefined;
  const fate = { refused: 'which refused it', unanswered: 'which never answered', answered: 'which answered' };
  return {
    syn: early.syn,
    decision: {
      mode: 'L7',
      proxyKind: 'tcp',
      reason:
        `the LB answered the client's SYN itself and, ${early.afterAcceptMs} ms after accepting the connection ` +
        `and before the client sent a byte, opened its own connection to ${hostPort(early.address, early.port)}, ` +
        `${fate[early.fate]} (a TCP proxy: an HTTP proxy cannot choose a server before it reads a request)`,
    },
  };
}

function serverSideOf(analysis: FlowAnalysis | null): ModeStep['serverSide'] {
  return (analysis?.serverSide ?? []).map((s) => ({
    address: s.address,
    port: s.port,
    sameIsn: s.sameIsn,
    answered: s.answered,
    sourceIsClient: s.src === analysis?.clientAddress,
    tiedBy: s.tiedBy,
    responseBytes: s.responseBytes,
    largestSegment: s.largestSegment,
  }));
}

/** Step 1 showed no LB handling of the probe to observe: the step is not judged (and says why). */
function notReached(c: ModeContext): Judged | undefined {
  const { reach, target } = c;
  const x = c.obs.exchange;
  if (reach.finding === 'vip-on-no-node' || reach.finding === 'vip-on-wrong-node') {
    return {
      // (--all) The node that saw the SYN does not hold the VIP: whatever it did with it is no LB handling.
      verdict: 'skipped',
      finding: 'not-reached',
      summary: reach.handledBy
        ? `Not judged: step 1 showed the SYN reached ${reach.handledBy}, which does not hold the VIP, so ` +
          'there is no LB handling of it to observe.'
        : 'Not judged: step 1 showed the SYN reached no node of the group, so there is no LB handling of it ' +
          'to observe.',
    };
  }
  if (reach.lbSawSyn !== false) return undefined;
  return {
    verdict: 'skipped',
    finding: 'not-reached',
    summary:
      `Not judged: step 1 showed the connection never reached the LB, so there is no LB handling ` +
      `to observe${x ? ` (what answered instead ${describeExchange(x, c.behaviour, target.httpPath)})` : ''}.`,
  };
}

function timingsOf(x: HttpExchange | undefined, connectMs: number): ModeStep['timings'] {
  return {
    connectMs,
    ...(x?.firstByteMs !== undefined ? { firstByteMs: x.firstByteMs } : {}),
    ...(x ? { endMs: x.endMs } : {}),
  };
}

/** An MTU black hole's trace, kept in the report when the step names one. */
function stalledSegmentsOf(c: ModeContext, judged: Judged): Pick<ModeStep, 'stalledSegments'> {
  const stalled = c.analysis?.stalled;
  if (!stalled || judged.finding !== 'mtu-black-hole') return {};
  return {
    stalledSegments: {
      segments: stalled.segments,
      sends: stalled.sends,
      largest: stalled.largest,
      spanMs: stalled.spanMs,
      smallReplyOk: c.obs.reprobes.head?.behaviour === 'http-response',
    },
  };
}

/** Why a kind may be open: this check did not wait for a TCP proxy's connection (proxy-kind-memory.ts). */
function skippedWaitNote(obs: ModeObservation, decision: ModeDecision, proxyKind: ModeStep['proxyKind']): string {
  if (obs.tcpProxyWait !== 'skipped' || decision.mode !== 'L7' || proxyKind !== null) return '';
  return (
    " (this check sent its request without waiting for a TCP proxy's own connection, as the last check of this " +
    'VIP found an HTTP proxy; the next check waits again)'
  );
}

export function decideModeStep(
  target: ObservedTarget,
  reach: ModeContext['reach'],
  obs: ModeObservation,
  at: { observedAt: string; connectMs: number },
): ModeDecisionStep {
  const x = obs.exchange;
  const { analysis, decision, proxyKind } = analyseCapture(target, reach, obs);
  const behaviour = behaviourOf(reach, x);
  const fingerprint = x ? fingerprintProxy(x) : undefined;
  const c: ModeContext = {
    target,
    reach,
    obs,
    observedAt: new Date(at.observedAt),
    analysis,
    decision,
    behaviour,
    who: !analysis ? 'The VIP' : directServerReturn(analysis) ? 'The server, answering around the LB,' : 'The LB',
    why: `${modeText(decision, proxyKind)}: ${decision.reason}${skippedWaitNote(obs, decision, proxyKind)}.`,
  };
  const judged: Judged = notReached(c) ?? (reach.outcome !== 'connected' ? notConnected(c) : judgeConnected(c));
  // A step that was not judged reports nothing it did not observe: no mode, kind or server side from a capture
  // that saw no LB handling.
  const judgedHere = judged.verdict !== 'skipped';
  return {
    step: 2,
    name: 'mode',
    mode: judgedHere ? decision.mode : 'unknown',
    proxyKind: judgedHere ? proxyKind : null,
    behaviour,
    serverSide: judgedHere ? serverSideOf(analysis) : [],
    timings: timingsOf(x, at.connectMs),
    ...(x?.status !== undefined ? { httpStatus: x.status } : {}),
    ...(x?.body ? { body: x.body } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    ...(obs.tls ? { tls: obs.tls } : {}),
    ...(judged.finding ? { finding: judged.finding } : {}),
    ...stalledSegmentsOf(c, judged),
    verdict: judged.verdict,
    summary: judged.summary,
    ms: obs.ms,
    deciding: analysis?.deciding ?? [],
  };
}
