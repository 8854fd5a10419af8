// "Doctor House": one culprit from a fixed vocabulary, a paragraph a tired
// human can act on naming the mechanism, the team to hand it to, and the
// evidence that proves it. Pure: it reads decided steps only.
import { hostPort } from '../../model/endpoint-text.js';
import type { Diagnosis, MemberResult, ModeStep, ReachStep, ServersStep, Step } from '../../model/report.js';
import { memberOk } from './step-servers.js';
import { bodyCutShort } from '../../probe/http-body.js';
import { cutShortWords } from './response-judgement.js';

const TEAM = {
  network: 'network / firewall team (path between clients and the LB)',
  lb: 'load balancer team',
  lbToServers: 'network / firewall team between the LB and the servers, or the server owners (host firewall)',
  servers: 'server / application team',
  returnPath: 'load balancer team with the network team (SNAT or server routing)',
  none: 'nobody: the LB path works',
  access: 'whoever grants lbcheck SSH access to the LB',
  rerun: 'whoever runs lbcheck: run it again',
  vantage: 'whoever runs the host lbcheck probes from (its firewall or routing)',
  dsr: "server owners (the VIP on each member, ARP settings) with the network team (the servers' direct way back)",
} as const;

type Found = Omit<Diagnosis, 'evidence'>;
type Protocol = 'http' | 'tcp';

function find<N extends Step['name']>(steps: Step[], name: N): Extract<Step, { name: N }> | undefined {
  return steps.find((s): s is Extract<Step, { name: N }> => s.name === name);
}

function evidenceOf(...steps: (Step | undefined)[]): string[] {
  return steps.flatMap((s) => s?.evidence.map((e) => e.name) ?? []);
}

const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

/** An HA group's own fault, from step 1: it outranks every later finding (they ran on a group in disarray). */
function fromPair(reach: ReachStep): Found | undefined {
  const finding = reach.finding;
  if (finding === undefined || finding === 'failed-over') return undefined;
  const next: Record<typeof finding, string> = {
    'split-brain':
      'Both nodes believe they are active: check the HA link between them (VRRP/keepalived adverts, pacemaker ' +
      'quorum) and make one release the VIP.',
    'vip-on-no-node':
      "Bring the VIP up on the node that should be active (the HA manager's state and logs say why it released it).",
    'vip-on-wrong-node':
      'Make the network learn the new owner: a gratuitous ARP from it, or clearing the old neighbour entry / ' +
      'route on the router in front of the pair.',
  };
  return { culprit: 'lb', team: TEAM.lb, finding, summary: `${reach.summary} ${next[finding]}` };
}

function fromReach(reach: ReachStep): Found | undefined {
  // The LB was never asked: no claim about it or the path, only about this host.
  if (reach.blockedHere) {
    return { culprit: 'inconclusive', team: TEAM.vantage, finding: 'probe-blocked-here', summary: reach.summary };
  }
  if (reach.answerLost) {
    // Dropped by this host, or late: nothing on the path is proven lost; what to do next is in the summary.
    const fate = reach.answerLost.fate;
    if (fate !== 'lost') {
      return { culprit: 'inconclusive', team: fate === 'late' ? TEAM.lb : TEAM.rerun, summary: reach.summary };
    }
    return {
      culprit: 'path-to-lb',
      team: TEAM.network,
      finding: 'answer-lost-after-lb',
      summary: `${reach.summary} Hand the LB capture (the SYN-ACKs leaving it) to the network team.`,
    };
  }
  if (reach.verdict === 'inconclusive' && reach.captureGap === undefined) {
    return {
      culprit: 'inconclusive',
      team: TEAM.access,
      summary:
        `${reach.summary} Without a capture on the LB lbcheck cannot say whether the problem is before, on ` +
        `or behind the LB; give it SSH access to the LB.`,
    };
  }
  if (reach.verdict === 'inconclusive') {
    return { culprit: 'inconclusive', team: TEAM.rerun, finding: 'capture-incomplete', summary: reach.summary };
  }
  if (reach.verdict !== 'fail') return undefined;
  if (reach.answeredBy === 'none') {
    return {
      culprit: 'path-to-lb',
      team: TEAM.network,
      finding: 'dropped-before-lb',
      summary:
        `${reach.summary} Hand the capture (empty for this probe) to the network team: a router or ` +
        `firewall between the client network and the LB drops the traffic.`,
    };
  }
  if (reach.refusedBy === 'icmp' && reach.answerFrom) {
    return {
      culprit: 'path-to-lb',
      team: TEAM.network,
      finding: 'rejected-before-lb',
      summary:
        `${reach.summary} ${reach.answerFrom} rejected the connection with ICMP before it reached the LB: ` +
        `a firewall rule or missing route on that device.`,
    };
  }
  return {
    culprit: 'impostor',
    team: TEAM.network,
    finding: 'impostor',
    summary:
      `${reach.summary} Something other than the LB answers for the VIP: a firewall sending resets on its ` +
      `behalf, a wrong ARP/route owner of the VIP address, or a hijack. The complete LB capture shows the SYN ` +
      `never arrived.`,
  };
}

function fromMode(mode: ModeStep): Found | undefined {
  if (mode.verdict !== 'fail') return undefined;
  if (mode.finding === 'mtu-black-hole') {
    return { culprit: 'path-to-lb', team: TEAM.network, finding: 'mtu-black-hole', summary: mode.summary };
  }
  const next =
    mode.finding?.startsWith('tls-') || mode.finding === 'proxy-protocol-expected'
      ? 'Hand it to the LB team with this evidence.'
      : "The connection reaches the LB and the LB is where it ends: check the virtual server's state and " +
        'configuration.';
  return {
    culprit: 'lb',
    team: TEAM.lb,
    ...(mode.finding ? { finding: mode.finding } : {}),
    summary: `${mode.summary} ${next}`,
  };
}

/** What failing members have in common, in words, with the HAProxy-style code. */
function memberFault(failing: MemberResult[]): { finding: string; text: string } {
  const codes = new Set(failing.map((m) => m.code ?? m.fromLb.code ?? m.direct.code));
  const they = plural(failing.length, 'it', 'they');
  if (codes.size === 1 && codes.has('L7TOUT')) {
    return {
      finding: 'server-hang',
      text:
        `accept${failing.length === 1 ? 's' : ''} TCP connections but never ` +
        `answer${failing.length === 1 ? 's' : ''} the HTTP request (L7TOUT): the application hangs (stuck ` +
        `workers, a dead dependency, a full thread pool), while the TCP stack still accepts. Restarting or ` +
        `debugging the application is for the server team; the LB only waits for ${they === 'it' ? 'it' : 'them'}.`,
    };
  }
  if ([...codes].every((c) => c === 'L7STS')) {
    const statuses = [...new Set(failing.map((m) => m.httpStatus ?? m.fromLb.httpStatus))].join(', ');
    return {
      finding: 'server-errors',
      text:
        `answer${failing.length === 1 ? 's' : ''} with HTTP ${statuses} (L7STS): the application fails the ` +
        `request itself, also when asked directly.`,
    };
  }
  if ([...codes].every((c) => c === 'L4CON')) {
    return {
      finding: 'servers-refuse',
      text:
        `refuse${failing.length === 1 ? 's' : ''} connections (L4CON), from the LB and directly: the service ` +
        `is not running or listens on another port.`,
    };
  }
  // A timeout is not a refusal (the checklist): nothing answered, so the host may be down, or a firewall or a route
  // in front of it drops the SYN for the LB and this host alike; the server team cannot be told it is theirs alone.
  const unanswered = [...codes].every((c) => c === 'L4TOUT')
    ? ' Every probe timed out: the servers are down or unreachable, or a firewall or route in front of them drops ' +
      'the connection from the LB and from here alike (a network matter if the servers are up).'
    : '';
  return {
    finding: 'servers-down',
    text:
      `do${failing.length === 1 ? 'es' : ''} not work, neither from the LB nor directly ` +
      `(${[...codes].filter(Boolean).join(', ') || 'no answer'}).${unanswered}`,
  };
}

function forwardsToDead(mode: ModeStep | undefined, failing: MemberResult[]): string {
  if (mode?.mode !== 'L4') return '';
  const dead = new Set(failing.map((m) => m.address));
  const hit = mode.serverSide.find((s) => s.sameIsn && dead.has(hostPort(s.address, s.port)));
  return hit
    ? ` The L4 LB still forwards clients to ${hostPort(hit.address, hit.port)} (this probe was sent there): it has ` +
        `no health check for its pool, or ignores it, so users keep landing on the dead member.`
    : '';
}

function fromFailingMembers(
  mode: ModeStep | undefined,
  servers: ServersStep,
  failing: MemberResult[],
  protocol: Protocol,
): Found {
  const some =
    failing.length < servers.members.length ? ` (${failing.length} of ${servers.members.length}; the others work)` : '';
  const downEverywhere = failing.filter((m) => !memberOk(m.direct, protocol));
  if (downEverywhere.length === failing.length) {
    const fault = memberFault(failing);
    return {
      culprit: 'servers',
      team: TEAM.servers,
      finding: fault.finding,
      summary: `${failing.map((m) => m.address).join(', ')}${some} ${fault.text}${forwardsToDead(mode, failing)}`,
    };
  }
  if (downEverywhere.length === 0) return fromLbOnlyFailures(mode, servers, failing, some, protocol);
  // Some fail only from the LB, some everywhere: each group is named with its own cause, never one cause for all.
  const lbOnly = failing.filter((m) => memberOk(m.direct, protocol));
  const found = fromLbOnlyFailures(mode, servers, lbOnly, '', protocol);
  const fault = memberFault(downEverywhere);
  const down = `${downEverywhere.map((m) => m.address).join(', ')} ${fault.text}`;
  return { ...found, summary: `${found.summary} Besides, ${down}` };
}

/** Members that answer directly but fail from the LB: what is between them and the LB. */
function fromLbOnlyFailures(
  mode: ModeStep | undefined,
  servers: ServersStep,
  failing: MemberResult[],
  some: string,
  protocol: Protocol,
): Found {
  const names = failing.map((m) => m.address).join(', ');
  const stalls = stallsBehindLb(failing, protocol, mode);
  if (stalls) return stalls;
  const droppedOnLb = droppedByTheLb(failing, protocol);
  if (droppedOnLb) return droppedOnLb;
  const sources = [...new Set(failing.map((m) => servers.lbSourceAddresses?.[hostOf(m.address)]).filter(Boolean))];
  const open = sources.length > 0 ? ` Allow the LB's source address ${sources.join(', ')} to reach them.` : '';
  const watched = failing.filter((m) => m.answersReachLb !== undefined);
  const notTheLb =
    watched.length > 0 && watched.every((m) => m.answersReachLb === 0)
      ? ' A capture on the LB while it connected again saw no answer arrive, so it is not the LB dropping them.'
      : '';
  return {
    culprit: 'lb-to-servers',
    team: TEAM.lbToServers,
    finding: 'lb-blocked',
    summary:
      `${names} answer${failing.length > 1 ? '' : 's'} direct probes but not the LB${some}: something ` +
      `between the LB and ${failing.length > 1 ? 'those servers' : 'that server'} (a firewall, or the server's ` +
      `own host firewall) blocks the LB's source address.${open}${notTheLb}`,
  };
}

/** A member whose head reached the LB (or whose connection from the LB opened) and whose body did not. */
const cutFromLb = (m: MemberResult): boolean =>
  m.fromLb.outcome === 'connected' && (bodyCutShort(m.fromLb.body) || m.fromLb.httpStatus === undefined);

/** The HEAD asked from the LB got its whole (small) reply. */
const smallReplyPasses = (m: MemberResult): boolean =>
  m.smallReplyFromLb?.httpStatus !== undefined && m.smallReplyFromLb.body?.end === 'complete';

function fromLbWords(m: MemberResult): string {
  const b = m.fromLb.body;
  return b && bodyCutShort(b)
    ? `from the LB its head arrived (HTTP ${m.fromLb.httpStatus}) and then ${cutShortWords(b)}`
    : 'from the LB the connection opens and no answer arrives';
}

/**
 * Members whose whole response arrives directly while from the LB it starts and stops (or never starts on an open
 * connection): the leg between the LB and those members loses what the direct path carries. When a HEAD from the
 * LB, whose reply fits in one small segment, gets its whole answer, small packets pass and full-size ones vanish:
 * an MTU black hole on that leg. Said only when every member failing from the LB shows it. Not the servers (they
 * answer whole directly), not the LB's configuration.
 */
function stallsBehindLb(failing: MemberResult[], protocol: Protocol, mode: ModeStep | undefined): Found | undefined {
  const cut = failing.filter((m) => memberOk(m.direct, protocol) && cutFromLb(m));
  if (cut.length === 0 || cut.length !== failing.length) return undefined;
  const mtu = cut.every(smallReplyPasses);
  const bodyStalled = cut.some((m) => bodyCutShort(m.fromLb.body));
  if (!mtu && !bodyStalled) return undefined; // no answer at all and no small-reply proof: lb-blocked says it
  // Members with the same story are named together, so three members do not make three copies of one sentence.
  const stories = new Map<string, string[]>();
  for (const m of cut) {
    const direct = m.direct.body ? ` (${m.direct.body.bytes.toLocaleString('en-US')} body bytes)` : '';
    const story = `the whole response arrives directly${direct}, but ${fromLbWords(m)}`;
    stories.set(story, [...(stories.get(story) ?? []), m.address]);
  }
  const each = [...stories].map(([story, names]) => `${names.join(', ')}: ${story}`).join('; ');
  const they = cut.length === 1 ? 'that server' : 'those servers';
  const seen = largestThrough(mode);
  if (mtu) {
    return {
      culprit: 'lb-to-servers',
      team: TEAM.lbToServers,
      finding: 'mtu-black-hole-lb-servers',
      summary:
        `${each}. A HEAD request from the LB, whose reply fits in one small segment, gets its whole answer.${seen} ` +
        `Small packets pass between the LB and ${they} and full-size ones vanish: an MTU black hole on that leg ` +
        '(a link, switch port or tunnel with a smaller MTU whose ICMP "fragmentation needed" is filtered, or a ' +
        'firewall dropping it), so pages served through the LB start and never finish. Hand it to the network ' +
        `team between the LB and ${they}: fix the MTU, let ICMP type 3 code 4 through, or clamp the MSS on the ` +
        "LB's server-side interface. Not the servers (they answer whole directly), not the LB's configuration.",
    };
  }
  return {
    culprit: 'lb-to-servers',
    team: TEAM.lbToServers,
    finding: 'response-stalls-lb-servers',
    summary:
      `${each}. The response starts and stops only on the way from ${they} to the LB: something on that leg ` +
      '(an MTU black hole, a firewall or IPS cutting long answers, a rate limiter) loses the rest. Not the ' +
      'servers (they answer whole directly).',
  };
}

/** What the LB's capture of step 2 saw arrive from the server on the proxied connection, in words. */
function largestThrough(mode: ModeStep | undefined): string {
  const flow = mode?.serverSide.find((s) => s.largestSegment !== undefined && s.largestSegment > 0);
  if (!flow?.largestSegment) return '';
  return (
    ` On step 2's proxied connection the LB's capture saw ${flow.responseBytes} bytes arrive from ` +
    `${hostPort(flow.address, flow.port)}, the largest packet carrying ${flow.largestSegment} bytes of payload.`
  );
}

/**
 * Members that answer direct probes and time out from the LB, whose SYN-ACKs a capture on the LB saw arrive: the
 * answers reach the LB and go no further. Said only when every such member shows it.
 */
function droppedByTheLb(failing: MemberResult[], protocol: Protocol): Found | undefined {
  const blocked = failing.filter((m) => memberOk(m.direct, protocol));
  if (blocked.length === 0 || !blocked.every((m) => (m.answersReachLb ?? 0) > 0)) return undefined;
  const names = blocked.map((m) => m.address).join(', ');
  return {
    culprit: 'lb',
    team: TEAM.lb,
    finding: 'lb-drops-server-answers',
    summary:
      `${names} answer${blocked.length > 1 ? '' : 's'} direct probes, and ${blocked.length > 1 ? 'their' : 'its'} ` +
      "answers to the LB's own connections reach the LB (a capture on it shows the SYN-ACKs arriving) while those " +
      'connections time out: the LB drops them itself. Check its host firewall (an INPUT chain without a rule ' +
      'accepting ESTABLISHED/RELATED replies), conntrack (`nf_conntrack: table full` in its kernel log) and ' +
      'reverse-path filtering on its server-side interface. Not the network between them, not the servers.',
  };
}

function hostOf(address: string): string {
  return address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.slice(0, address.lastIndexOf(':'));
}

/**
 * The LB used endpoints the inventory does not list, and that is what breaks
 * it: those endpoints fail from the LB while the listed ones work. When the
 * listed members fail too, the servers are the story (a partial --member list
 * is no drift).
 */
function poolDrift(mode: ModeStep | undefined, servers: ServersStep, protocol: Protocol): Found | undefined {
  if (!mode || mode.verdict === 'pass') return undefined;
  const configured = servers.members.filter((m) => m.source === 'configured');
  if (!configured.some((m) => memberOk(m.fromLb, protocol))) return undefined;
  const names = configured.map((m) => m.address);
  const fromView = servers.lbView?.pool.flatMap((v) => (v.address ? [v.address] : [])) ?? [];
  const used = [...new Set([...mode.serverSide.map((s) => hostPort(s.address, s.port)), ...fromView])].filter(
    (a) => !names.includes(a),
  );
  const drifted = used.map((a) => ({ a, m: servers.members.find((x) => x.address === a) }));
  if (drifted.length === 0 || drifted.some(({ m }) => !m || memberOk(m.fromLb, protocol))) return undefined;
  const fates = drifted.map(({ a, m }) => `${a} (${m?.fromLb.code ?? m?.fromLb.outcome} from the LB)`);
  const seenBy =
    fromView.length > 0
      ? "The LB's pool configuration and its connections name"
      : 'While handling this probe the LB connected to';
  return {
    culprit: 'lb',
    team: TEAM.lb,
    finding: 'pool-drift',
    summary:
      `${seenBy} ${fates.join(', ')}, which the inventory does not list (inventory: ${names.join(', ')}, ` +
      "which answer the LB). The LB's pool has drifted from what it should be: fix the pool's addresses or ports " +
      'on the LB (or the inventory, if the LB is right).',
  };
}

/**
 * Direct server return, and the client got no answer: the LB passed the SYN on, and what happened next never
 * passes the LB. Failing members answer it first (fromFailingMembers); otherwise nobody is proven at fault, and
 * the LB is not the suspect.
 */
function dsrUnanswered(mode: ModeStep, servers: ServersStep | undefined): Found {
  const membersAnswer =
    servers?.verdict === 'pass' && servers.members.length > 0
      ? " Every member answers the LB's own probes on its own address, so the fault is in what direct server " +
        'return adds: the VIP on the members, or their replies straight to the clients.'
      : '';
  return {
    culprit: 'inconclusive',
    team: TEAM.dsr,
    finding: 'dsr-unanswered',
    summary: `${mode.summary}${membersAnswer} Not the LB: it passed the SYN on.`,
  };
}

function returnPath(mode: ModeStep): Found | undefined {
  if (
    mode.mode !== 'L4' ||
    mode.behaviour === 'http-response' ||
    !mode.serverSide.some((s) => s.sameIsn && !s.answered)
  )
    return undefined;
  const noSnat = mode.serverSide.some((s) => s.sameIsn && s.sourceIsClient);
  return {
    culprit: 'return-path',
    team: TEAM.returnPath,
    finding: noSnat ? 'missing-snat' : 'asymmetric-return',
    summary:
      `The LB forwards the client's SYN to the ` +
      `servers${noSnat ? " without SNAT (the source is still the client's address)" : ''}, and the servers answer ` +
      `the LB's own probes, but no reply came back through the LB: the servers send their replies another way ` +
      `(missing SNAT, or a server default route that bypasses the LB).`,
  };
}

function lbDespiteMembers(mode: ModeStep): Found {
  const what =
    mode.behaviour === 'http-response'
      ? `answers ${mode.httpStatus}`
      : mode.behaviour === 'silent'
        ? 'accepts the connection and never answers'
        : `gives "${mode.behaviour}"`;
  return {
    culprit: 'lb',
    team: TEAM.lb,
    finding: mode.behaviour === 'silent' ? 'vip-silent' : 'lb-misbehaves',
    summary:
      `Every member answers the LB's own probes, yet the LB ${what} for the VIP: the virtual's pool ` +
      `configuration (members, ports, health checks) or its state is wrong.`,
  };
}

/**
 * The VIP's body stops while every member's whole response arrives from the LB (step 3): the loss is not between
 * the LB and its members. What the LB's capture saw on the proxied connection says whether the LB got the body.
 */
function vipStallsMembersWhole(mode: ModeStep): Found {
  const expected = mode.body?.expected;
  const lbGotMore =
    expected !== undefined && mode.serverSide.some((s) => s.responseBytes !== undefined && s.responseBytes >= expected);
  if (lbGotMore) {
    return {
      culprit: 'lb',
      team: TEAM.lb,
      finding: 'response-incomplete',
      summary:
        `${mode.summary} Every member's whole response reaches the LB, and on this probe's own proxied ` +
        `connection the server sent the LB more than the client got: the LB received the body and did not pass ` +
        "it all on (its buffers, timeouts or a filter on the virtual). Check the virtual's response handling.",
    };
  }
  return {
    culprit: 'inconclusive',
    team: TEAM.lb,
    finding: 'response-incomplete',
    summary:
      `${mode.summary} Every member's whole response reaches the LB, so the loss is at the LB or between it and ` +
      'the clients, but no capture here shows which (no full-size segments went unacknowledged toward the client). ' +
      'Run the check again, or capture on the LB while loading the page.',
  };
}

function fromServers(
  mode: ModeStep | undefined,
  servers: ServersStep | undefined,
  protocol: Protocol,
): Found | undefined {
  if (mode?.finding === 'capture-stalled') {
    // With the SSH path to the LB losing packets, the LB's own probes of the
    // members time out whatever the members do: blaming them would be a guess.
    return {
      culprit: 'inconclusive',
      team: TEAM.network,
      finding: 'capture-stalled',
      summary:
        `${mode.summary} The member probes from the LB travel over the same SSH path, so they prove ` +
        `nothing either.`,
    };
  }
  const anyFailing = servers?.members.some((m) => !memberOk(m.fromLb, protocol)) ?? false;
  if (mode?.finding === 'dsr-unanswered' && !anyFailing) return dsrUnanswered(mode, servers);
  if (!servers || servers.verdict === 'skipped' || servers.verdict === 'inconclusive') return undefined;
  const drift = poolDrift(mode, servers, protocol);
  if (drift) return drift;
  const failing = servers.members.filter((m) => !memberOk(m.fromLb, protocol));
  if (failing.length > 0) return fromFailingMembers(mode, servers, failing, protocol);
  if (mode?.finding === 'response-incomplete') return vipStallsMembersWhole(mode);
  if (mode)
    return returnPath(mode) ?? (mode.verdict === 'warn' && !isOnlyAdvice(mode) ? lbDespiteMembers(mode) : undefined);
  return undefined;
}

/**
 * SYNs lost before the LB while the connection still got through: the path is at fault, but any fault further on
 * (the LB, the servers) answers the incident first, so this is judged last.
 */
function fromLossBeforeLb(reach: ReachStep): Found | undefined {
  if (!reach.lostBeforeLb) return undefined;
  return {
    culprit: 'path-to-lb',
    team: TEAM.network,
    finding: 'syn-loss-before-lb',
    summary:
      `${reach.summary} Nothing further on found a fault: this one is loss between the clients and the LB ` +
      '(intermittent: run the check a few times, or watch it, to see how often).',
  };
}

/**
 * A warning that is advice (renew soon, an issuer the trust store does not hold, odd status) rather than a fault
 * of the path.
 */
const isOnlyAdvice = (mode: ModeStep): boolean =>
  mode.finding === 'tls-expires-soon' ||
  mode.finding === 'tls-untrusted' ||
  mode.finding === 'unexpected-status' ||
  mode.finding === 'slow-response';

/** A warning that is advice, in step 2 (isOnlyAdvice) or step 3 (members whole but slow). */
const isAdviceStep = (s: Step): boolean =>
  (s.name === 'mode' && isOnlyAdvice(s)) || (s.name === 'servers' && s.finding === 'slow-response');

/**
 * Why the check cannot say "no fault" though no rule named a culprit: a step failed all the same, a step
 * inconclusive, or warning of more than advice; or step 2 or 3 not judged (step 3 skipped because no members are
 * known), since "every step passed" would then claim what no probe saw.
 */
function unjudged(steps: Step[]): { step: number; text: string } | undefined {
  // A failure no rule above turned into a culprit: it is still no "no fault".
  const failed = steps.find((s) => s.verdict === 'fail');
  if (failed) return { step: failed.step, text: `Step ${failed.step} failed: ${failed.summary}` };
  const unclear = steps.find((s) => (s.verdict === 'inconclusive' || s.verdict === 'warn') && !isAdviceStep(s));
  if (unclear) return { step: unclear.step, text: `Step ${unclear.step} was ${unclear.verdict}: ${unclear.summary}` };
  const passed = (before: number): string => {
    const ok = steps.filter((s) => s.step < before && s.verdict === 'pass').map((s) => s.step);
    return ok.length > 0 ? ` No fault in step${ok.length === 1 ? '' : 's'} ${ok.join(' and ')}.` : '';
  };
  const skipped = steps.find((s) => s.verdict === 'skipped');
  if (skipped) {
    const text = `Step ${skipped.step} was not judged: ${skipped.summary}${passed(skipped.step)}`;
    return { step: skipped.step, text };
  }
  const missing = ([2, 3] as const).find((n) => !steps.some((s) => s.step === n));
  if (missing) return { step: missing, text: `Step ${missing} did not run, so it was not judged.${passed(missing)}` };
  return undefined;
}

export function diagnose(steps: Step[], protocol: Protocol): Diagnosis {
  const reach = find(steps, 'reach');
  const mode = find(steps, 'mode');
  const servers = find(steps, 'servers');
  const found =
    (reach && (fromPair(reach) ?? fromReach(reach))) ??
    (mode && fromMode(mode)) ??
    fromServers(mode, servers, protocol) ??
    (reach && fromLossBeforeLb(reach));
  const ev = evidenceOf(...steps);
  if (found) return { ...found, evidence: ev };
  const unclear = unjudged(steps);
  if (unclear) return { culprit: 'inconclusive', team: TEAM.lb, evidence: ev, summary: unclear.text };
  const slowMembers = servers?.finding === 'slow-response' && mode?.verdict !== 'warn' ? servers : undefined;
  const advice = mode && isOnlyAdvice(mode) ? mode : slowMembers;
  if (advice) {
    return {
      culprit: 'none',
      team: TEAM.none,
      evidence: ev,
      ...(advice.finding ? { finding: advice.finding } : {}),
      summary: `No fault on the path, with one warning: ${advice.summary}`,
    };
  }
  const failedOver = reach?.finding === 'failed-over' ? ' (the pair has failed over to it)' : '';
  const handled = reach?.handledBy ? ` ${reach.handledBy} handled it${failedOver}.` : '';
  return {
    culprit: 'none',
    team: TEAM.none,
    evidence: ev,
    summary:
      `Every step passed: the connection reaches the LB, the LB handles it, and the LB reaches its ` +
      `servers.${handled}`,
  };
}
