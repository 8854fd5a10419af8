// "Doctor House": one culprit from a fixed vocabulary, a paragraph a tired
// human can act on, the team to hand it to, and the evidence that proves it.
import { memberOk } from './step-servers.js';
import type { Diagnosis, ModeStep, ReachStep, ServersStep, Step } from './report.js';

const TEAM = {
  network: 'network / firewall team (path between clients and the LB)',
  lb: 'load balancer team',
  lbToServers: 'network / firewall team between the LB and the servers, or the server owners (host firewall)',
  servers: 'server / application team',
  returnPath: 'load balancer team with the network team (SNAT or server routing)',
  none: 'nobody: the LB path works',
  access: 'whoever grants lbcheck SSH access to the LB',
} as const;

function find<N extends Step['name']>(steps: Step[], name: N): Extract<Step, { name: N }> | undefined {
  return steps.find((s): s is Extract<Step, { name: N }> => s.name === name);
}

function evidenceOf(...steps: (Step | undefined)[]): string[] {
  return steps.flatMap((s) => s?.evidence.map((e) => e.name) ?? []);
}

function fromReach(reach: ReachStep): Diagnosis | undefined {
  if (reach.verdict === 'inconclusive') {
    return {
      culprit: 'inconclusive',
      team: TEAM.access,
      evidence: evidenceOf(reach),
      summary: `${reach.summary} Without a capture on the LB lbcheck cannot say whether the problem is before, on or behind the LB; give it SSH access to the LB.`,
    };
  }
  if (reach.verdict !== 'fail') return undefined;
  if (reach.answeredBy === 'none') {
    return {
      culprit: 'path-to-lb',
      team: TEAM.network,
      evidence: evidenceOf(reach),
      summary: `${reach.summary} Hand the capture (empty for this probe) to the network team: a router or firewall between the client network and the LB drops the traffic.`,
    };
  }
  if (reach.refusedBy === 'icmp' && reach.answerFrom) {
    return {
      culprit: 'path-to-lb',
      team: TEAM.network,
      evidence: evidenceOf(reach),
      summary: `${reach.summary} ${reach.answerFrom} rejected the connection with ICMP before it reached the LB: a firewall rule or missing route on that device.`,
    };
  }
  return {
    culprit: 'impostor',
    team: TEAM.network,
    evidence: evidenceOf(reach),
    summary: `${reach.summary} Something other than the LB answers for the VIP: a firewall sending resets on its behalf, a wrong ARP/route owner of the VIP address, or a hijack. The LB capture proves the SYN never arrived.`,
  };
}

function fromMode(mode: ModeStep): Diagnosis | undefined {
  if (mode.verdict !== 'fail') return undefined;
  return {
    culprit: 'lb',
    team: TEAM.lb,
    evidence: evidenceOf(mode),
    summary: `${mode.summary} The connection reaches the LB and the LB is where it ends: check the virtual server's state and configuration.`,
  };
}

function fromServers(
  mode: ModeStep | undefined,
  servers: ServersStep | undefined,
  reach: ReachStep | undefined,
): Diagnosis | undefined {
  if (!servers || servers.verdict === 'skipped' || servers.verdict === 'inconclusive') return undefined;
  const ev = evidenceOf(reach, mode, servers);
  const failing = servers.members.filter((m) => !memberOk(m.fromLb));
  if (failing.length > 0) {
    const names = failing.map((m) => m.address).join(', ');
    const downEverywhere = failing.filter((m) => !memberOk(m.direct));
    const some =
      failing.length < servers.members.length
        ? ` (${failing.length} of ${servers.members.length}; the others work)`
        : '';
    if (downEverywhere.length === failing.length) {
      return {
        culprit: 'servers',
        team: TEAM.servers,
        evidence: ev,
        summary: `${names} ${failing.length > 1 ? 'do' : 'does'} not answer, neither from the LB nor directly${some}: the service on ${failing.length > 1 ? 'those servers is' : 'that server is'} down. The LB is fine.`,
      };
    }
    return {
      culprit: 'lb-to-servers',
      team: TEAM.lbToServers,
      evidence: ev,
      summary: `${names} answer${failing.length > 1 ? '' : 's'} direct probes but not the LB${some}: something between the LB and ${failing.length > 1 ? 'those servers' : 'that server'} (a firewall, or the server's own host firewall) blocks the LB's source address.`,
    };
  }
  if (
    mode?.mode === 'L4' &&
    mode.behaviour !== 'http-response' &&
    mode.serverSide.some((s) => s.sameIsn && !s.answered)
  ) {
    const noSnat = mode.serverSide.some((s) => s.sameIsn && s.sourceIsClient);
    return {
      culprit: 'return-path',
      team: TEAM.returnPath,
      evidence: ev,
      summary: `The LB forwards the client's SYN to the servers${noSnat ? " without SNAT (the source is still the client's address)" : ''}, and the servers answer the LB's own probes, but no reply came back through the LB: the servers send their replies another way (missing SNAT, or a server default route that bypasses the LB).`,
    };
  }
  if (mode && (mode.verdict === 'warn' || mode.verdict === 'fail')) {
    return {
      culprit: 'lb',
      team: TEAM.lb,
      evidence: ev,
      summary: `Every member answers the LB's own probes, yet the LB ${mode.behaviour === 'http-response' ? `answers ${mode.httpStatus}` : `gives "${mode.behaviour}"`} for the VIP: the LB's pool configuration (members, ports, health checks) or its state is wrong.`,
    };
  }
  return undefined;
}

export function diagnose(steps: Step[]): Diagnosis {
  const reach = find(steps, 'reach');
  const mode = find(steps, 'mode');
  const servers = find(steps, 'servers');
  const byStep = (reach && fromReach(reach)) ?? (mode && fromMode(mode)) ?? fromServers(mode, servers, reach);
  if (byStep) return byStep;
  const unclear = steps.find((s) => s.verdict === 'inconclusive' || s.verdict === 'warn');
  if (unclear) {
    return {
      culprit: 'inconclusive',
      team: TEAM.lb,
      evidence: evidenceOf(...steps),
      summary: `Step ${unclear.step} was ${unclear.verdict}: ${unclear.summary}`,
    };
  }
  return {
    culprit: 'none',
    team: TEAM.none,
    evidence: evidenceOf(...steps),
    summary: 'Every step passed: the connection reaches the LB, the LB handles it, and the LB reaches its servers.',
  };
}
