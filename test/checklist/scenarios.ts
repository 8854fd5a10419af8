// The failure modes lbcheck claims to diagnose, each as a lab fault and what
// a correct check must conclude. One table serves three places: the lab test
// (the live check reaches these conclusions), the fixture recorder (records
// the observation), and the fixture test (deciding the recorded observation,
// without root, reaches the same conclusions).
import assert from 'node:assert/strict';
import type { CheckOptions, CheckTarget } from '../../src/target/check-target.js';
import type { Culprit, Report } from '../../src/model/report.js';
import { LAB_TLS_NAME, labFiles, type Lab, type VipKind } from '../lab/lab.js';
import { checkOptions, labTarget, standbyLbAccess, sudoLbAccess } from './lab-target.js';
import { ESTATE_SCENARIOS } from './estate-scenarios.js';

export interface Expectation {
  /** e.g. "1:pass 2:warn 3:fail" (a regular expression, anchored) */
  verdicts: string;
  /** The culprit, or the culprits one of which is right when the lab cannot make the run deterministic. */
  culprit: Culprit | Culprit[];
  /** diagnosis.finding */
  finding?: string;
  /** Step 2's finding, when it names one. */
  modeFinding?: string;
  /** Each must match the diagnosis summary (the mechanism and the next action, in words). */
  says?: RegExp[];
  /** None may match the diagnosis summary. */
  neverSays?: RegExp[];
  /** Further checks on the report, for facts a table cannot hold. */
  also?: (r: Report, lab: LabFacts) => void;
}

/** The few lab facts expectations name (recorded with each fixture, so fixture tests need no lab). */
export interface LabFacts {
  lbServerSide: string;
}

export const labFacts = (lab: Lab): LabFacts => ({ lbServerSide: lab.addr.lbServerSide });

export interface Scenario {
  name: string;
  /** tls: the lab's TLS VIP; dsr: its direct-server-return address (see faults.directServerReturn). */
  vip: VipKind | 'tls' | 'dsr';
  members?: boolean;
  /** Check without SSH access to the LB (no capture, no probes from the LB). */
  noLb?: boolean;
  /** The VIP is served by the lab's HA pair (lab-lb, then the standby lab-lb2). */
  pair?: boolean;
  /** Log in as the LB's unprivileged account (privileged commands through sudo -n). */
  sudo?: boolean;
  /** Read the LB's own view of the pool (HAProxy runtime API, iptables, nginx -T). */
  view?: boolean;
  all?: boolean;
  fault?: (lab: Lab) => Promise<unknown>;
  /** Also run with thousands of unrelated SYNs a second hitting the LB. */
  busy?: boolean;
  /**
   * When lbcheck's own SSH path is impaired, the check may not be able to run at all: an error
   * matching this is an acceptable outcome (it names the path, and blames nobody).
   */
  acceptsError?: RegExp;
  /** tls: check without the lab CA's certificate (caFile), so the VIP's issuer is one the system does not trust. */
  noCaFile?: boolean;
  /** Check options beyond the lab's defaults (e.g. a connect timeout that leaves room for a SYN retransmission). */
  options?: Partial<CheckOptions>;
  expect: Expectation;
}

/** The options a scenario's check runs with, live and when its fixture is recorded. */
export function scenarioOptions(s: Scenario): CheckOptions {
  return checkOptions({ all: s.all ?? false, ...s.options });
}

export function scenarioTarget(lab: Lab, s: Scenario): CheckTarget {
  if (s.noLb) {
    const { lb: _lb, ...withoutLb } = scenarioTarget(lab, { ...s, noLb: false });
    return withoutLb;
  }
  if (s.vip === 'tls') {
    return {
      ...labTarget(lab, 'haproxy-http', { members: s.members ?? true }),
      vip: lab.tlsVip.address,
      port: lab.tlsVip.port,
      tls: true,
      sni: LAB_TLS_NAME,
      ...(s.noCaFile ? {} : { caFile: labFiles(lab).tlsCa }),
    };
  }
  if (s.vip === 'dsr') {
    return { ...labTarget(lab, 'dnat', { members: s.members ?? true }), vip: lab.addr.dsrVip, port: 80 };
  }
  const target = labTarget(lab, s.vip, { members: s.members ?? true, view: s.view ?? false });
  if (s.sudo) return { ...target, lb: sudoLbAccess(lab) };
  return s.pair && target.lb ? { ...target, lbNodes: [target.lb, standbyLbAccess(lab)] } : target;
}

const step3 = (r: Report): Extract<Report['steps'][number], { step: 3 }> | undefined =>
  r.steps.find((s): s is Extract<Report['steps'][number], { step: 3 }> => s.step === 3);

/** An `also` check: step 3's view of the LB agrees or disagrees as expected, in these words. */
const viewSays =
  (...res: RegExp[]) =>
  (r: Report): void => {
    const s = step3(r);
    const text = s?.lbView?.agreement.join(' ') ?? '';
    if (s?.lbView?.error) throw new Error(`view error: ${s.lbView.error}`);
    for (const re of res) if (!re.test(text)) throw new Error(`view lacks ${re}: ${text}`);
  };

const healthy = (vip: VipKind): Scenario => ({
  name: `healthy-${vip}`,
  vip,
  busy: true,
  expect: { verdicts: '1:pass 2:pass 3:pass', culprit: 'none' },
});

export const SCENARIOS: Scenario[] = [
  healthy('haproxy-http'),
  healthy('haproxy-tcp'),
  healthy('nginx'),
  healthy('dnat'),
  {
    name: 'healthy-tls',
    vip: 'tls',
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      also: (r) => {
        const mode = r.steps.find((s) => s.step === 2);
        if (mode?.name !== 'mode' || mode.tls?.subject !== LAB_TLS_NAME) throw new Error('no TLS facts');
        // Verified against the lab CA the check was given: the healthy certificate is trusted.
        assert.equal(mode.tls.trust?.authorized, true, JSON.stringify(mode.tls.trust));
        assert.match(mode.tls.trust.store, /^the CA bundle .*lab-ca\/ca\.crt$/);
      },
    },
  },
  {
    // The same healthy VIP checked without its CA: the system's store does not hold the lab CA. This passed
    // silently; clients that verify certificates refuse it.
    name: 'tls-untrusted',
    vip: 'tls',
    noCaFile: true,
    expect: {
      verdicts: '1:pass 2:warn 3:pass',
      culprit: 'none',
      finding: 'tls-untrusted',
      modeFinding: 'tls-untrusted',
      says: [/Untrusted issuer: .*"lbcheck lab root CA", which the system's CA store/, /--ca-file/],
      also: (r) => {
        const mode = r.steps.find((s) => s.step === 2);
        assert.ok(mode?.step === 2);
        assert.equal(mode.tls?.trust?.authorized, false);
        assert.match(mode.tls.trust.error ?? '', /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)/);
      },
    },
  },
  {
    // A self-signed certificate, checked with the lab CA given: trusted by nobody.
    name: 'tls-self-signed',
    vip: 'tls',
    fault: (lab) => lab.faults.tlsCertificate('self-signed'),
    expect: {
      verdicts: '1:pass 2:warn 3:pass',
      culprit: 'none',
      finding: 'tls-untrusted',
      modeFinding: 'tls-untrusted',
      says: [/Untrusted issuer: .*the certificate is self-signed; DEPTH_ZERO_SELF_SIGNED_CERT/],
    },
  },
  {
    name: 'dropped-before-lb',
    vip: 'nginx',
    busy: true,
    fault: (lab) => lab.faults.dropBeforeLb('nginx'),
    expect: {
      verdicts: '1:fail 2:skipped 3:skipped',
      culprit: 'path-to-lb',
      finding: 'dropped-before-lb',
      says: [/never reached the LB/],
    },
  },
  {
    name: 'syn-lost-before-lb',
    vip: 'nginx',
    // The client's first SYN is lost on the router; its retransmission (after the kernel's 1 s RTO) gets through.
    fault: (lab) => lab.faults.loseFirstSyn('nginx'),
    options: { connectTimeoutMs: 2500 },
    expect: {
      verdicts: '1:warn 2:pass 3:pass',
      culprit: 'path-to-lb',
      finding: 'syn-loss-before-lb',
      says: [/sent its SYN 2 times and the LB's capture .* shows 1: 1 was lost on the way to the LB/],
    },
  },
  {
    name: 'answer-lost-after-lb',
    vip: 'nginx',
    // The LB answers; a firewall on the way back drops the answer. Blaming the LB here sent the wrong team.
    fault: (lab) => lab.faults.dropRepliesFromVip('nginx'),
    expect: {
      verdicts: '1:fail 2:skipped 3:skipped',
      culprit: 'path-to-lb',
      finding: 'answer-lost-after-lb',
      says: [/SYN-ACKs? left the LB toward the client/, /None reached this machine/, /lost on the way back/],
      neverSays: [/the LB drops it itself/],
    },
  },
  {
    name: 'answer-lost-after-lb-l4',
    vip: 'dnat',
    fault: (lab) => lab.faults.dropRepliesFromVip('dnat'),
    all: true,
    expect: {
      verdicts: '1:fail 2:inconclusive 3:pass',
      culprit: 'path-to-lb',
      finding: 'answer-lost-after-lb',
      says: [/SYN-ACKs? left the LB toward the client/, /lost on the way back/],
      neverSays: [/never came back through the LB/],
    },
  },
  // This host's own firewall stops the probe (the OUTPUT chain of the machine lbcheck runs on): blamed on the
  // network ("dropped before the LB") or an impostor, it sent the network team after a rule on lbcheck's host.
  ...(['drop', 'reject', 'reset'] as const).map((how): Scenario => ({
    name: `blocked-here-${how}`,
    vip: 'nginx',
    fault: (lab) => lab.faults.blockHere('nginx', how),
    expect: {
      verdicts: '1:inconclusive .*',
      culprit: 'inconclusive',
      finding: 'probe-blocked-here',
      says: [/This machine never sent the SYN/, /its own capture \(complete: nothing lost\) shows no SYN leaving/],
      neverSays: [/dropped or misrouted before the LB/, /answered in the LB's place/, /rejected it with/],
    },
  })),
  {
    name: 'healthy-dsr',
    vip: 'dsr',
    // Direct server return: the LB passes the SYN on unchanged and a server answers the client around it.
    fault: (lab) => lab.faults.directServerReturn('healthy'),
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      also: (r) => {
        const mode = r.steps.find((s) => s.step === 2);
        assert.ok(mode && mode.step === 2);
        assert.equal(mode.mode, 'L4');
        assert.match(mode.summary, /passed the client's SYN on unchanged .*direct server return/);
        assert.match(mode.summary, /The server, answering around the LB, answered GET \//);
        assert.doesNotMatch(mode.summary, /The LB answered/);
      },
    },
  },
  {
    name: 'dsr-member-lacks-vip',
    vip: 'dsr',
    // The member the LB passes to does not hold the VIP: this was "the LB drops it itself" (culprit lb).
    fault: (lab) => lab.faults.directServerReturn('member-lacks-vip'),
    expect: {
      verdicts: '1:pass 2:warn 3:pass',
      culprit: 'inconclusive',
      finding: 'dsr-unanswered',
      says: [/The LB did its part/, /the VIP missing on the server's loopback/, /Not the LB: it passed the SYN on/],
      neverSays: [/the LB drops it itself/],
    },
  },
  {
    name: 'lb-drops-server-answers',
    vip: 'haproxy-http',
    // The LB's own INPUT chain drops its servers' replies: this read "allow the LB's source address" (lb-to-servers).
    fault: (lab) => lab.faults.lbDropsServerAnswers(),
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'lb',
      finding: 'lb-drops-server-answers',
      says: [/reach the LB \(a capture on it shows the SYN-ACKs arriving\)/, /the LB drops them itself/],
      neverSays: [/Allow the LB's source address/],
    },
  },
  {
    name: 'rejected-before-lb',
    vip: 'nginx',
    fault: (lab) => lab.faults.rejectBeforeLb('nginx', 'icmp-port-unreachable'),
    expect: { verdicts: '1:fail 2:skipped 3:skipped', culprit: 'path-to-lb', finding: 'rejected-before-lb' },
  },
  {
    name: 'impostor-hijack',
    vip: 'dnat',
    fault: (lab) => lab.faults.impostor('dnat', 'hijack'),
    expect: { verdicts: '1:fail 2:skipped 3:skipped', culprit: 'impostor', finding: 'impostor' },
  },
  {
    name: 'vip-not-listening',
    vip: 'haproxy-http',
    fault: (lab) => lab.faults.vipNotListening('haproxy-http'),
    expect: { verdicts: '1:pass 2:fail 3:skipped', culprit: 'lb', finding: 'vip-refused' },
  },
  {
    name: 'missing-snat',
    vip: 'dnat',
    fault: (lab) => lab.faults.missingSnat(),
    expect: { verdicts: '1:pass 2:warn 3:pass', culprit: 'return-path', finding: 'missing-snat' },
  },
  {
    name: 'no-lb-access',
    vip: 'nginx',
    noLb: true,
    expect: {
      verdicts: '1:inconclusive 2:pass 3:inconclusive',
      culprit: 'inconclusive',
      says: [/SSH access/],
      neverSays: [/The LB answered/],
    },
  },
  {
    name: 'impostor-reset',
    vip: 'haproxy-tcp',
    busy: true,
    fault: (lab) => lab.faults.impostor('haproxy-tcp', 'reset'),
    expect: { verdicts: '1:fail 2:skipped 3:skipped', culprit: 'impostor', finding: 'impostor' },
  },
  {
    name: 'servers-hang',
    vip: 'nginx',
    busy: true,
    fault: (lab) => lab.faults.serversMisbehave('hang'),
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'servers',
      finding: 'server-hang',
      modeFinding: 'server-hang',
      says: [/L7TOUT/, /never answer/, /application hangs/],
      neverSays: [/LB is fine/],
    },
  },
  {
    name: 'servers-500-through-nginx',
    vip: 'nginx',
    fault: (lab) => lab.faults.serversMisbehave('error'),
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'servers',
      finding: 'server-errors',
      modeFinding: 'server-error',
      says: [/HTTP 500 \(L7STS\)/],
      also: (r) => {
        const mode = r.steps.find((s) => s.step === 2);
        if (!mode?.summary.includes('the LB passed the server')) throw new Error(`step 2: ${mode?.summary}`);
      },
    },
  },
  {
    name: 'servers-500-haproxy',
    vip: 'haproxy-http',
    fault: async (lab) => {
      await lab.faults.serversMisbehave('error');
      // HAProxy's health checks need a moment to mark the servers down.
      await new Promise((r) => setTimeout(r, 1200));
    },
    expect: { verdicts: '1:pass 2:warn 3:fail', culprit: 'servers', finding: 'server-errors', says: [/L7STS/] },
  },
  {
    name: 'mtu-black-hole',
    vip: 'nginx',
    busy: true,
    fault: (lab) => lab.faults.mtuBlackHole(),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'path-to-lb',
      finding: 'mtu-black-hole',
      modeFinding: 'mtu-black-hole',
      says: [/MTU black hole/, /fragmentation needed/, /HEAD request/],
    },
  },
  {
    // Between the LB and its servers: full-size frames toward the LB vanish, so the head of a page arrives and its
    // body never does. Every probe used to read only the status line and call this "no fault found".
    name: 'mtu-black-hole-lb-servers',
    vip: 'haproxy-http',
    fault: (lab) => lab.faults.lbServerMtuBlackHole(),
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'lb-to-servers',
      finding: 'mtu-black-hole-lb-servers',
      modeFinding: 'response-incomplete',
      says: [
        /MTU black hole/,
        /whole response arrives directly/,
        /body stalled after \d+ of \d[\d,]* body bytes/,
        /HEAD/,
      ],
      neverSays: [/server team|application hangs/, /blocks the LB's source address/],
      also: (r) => {
        const servers = r.steps.find((s) => s.step === 3);
        if (servers?.name !== 'servers') throw new Error('no step 3');
        for (const m of servers.members) {
          if (m.fromLb.body?.end !== 'stalled')
            throw new Error(`${m.address}: from the LB ${JSON.stringify(m.fromLb)}`);
          if (m.direct.body?.end !== 'complete') throw new Error(`${m.address}: direct ${JSON.stringify(m.direct)}`);
          if (m.smallReplyFromLb?.body?.end !== 'complete') throw new Error(`${m.address}: HEAD from the LB`);
        }
        const mode = r.steps.find((s) => s.step === 2);
        if (mode?.name !== 'mode' || mode.body?.end === 'complete')
          throw new Error(`step 2 body: ${JSON.stringify(mode)}`);
      },
    },
  },
  {
    // The same hole also on lbcheck's own SSH path to the LB: the capture stream
    // stalls. Either the pattern proves the MTU problem or the check says it
    // cannot tell; it must never blame the servers or the LB.
    name: 'mtu-black-hole-on-ssh-path',
    vip: 'nginx',
    fault: (lab) => lab.faults.mtuBlackHole('path'),
    // Which one depends on when the stall bites: tcpdump's output stalling, or the connection given up first.
    acceptsError: /output stopped arriving over SSH|SSH connection to .* was lost during the check/,
    expect: {
      verdicts: '1:pass 2:(fail|inconclusive) 3:(skipped|[a-z]+)',
      culprit: ['path-to-lb', 'inconclusive'],
      neverSays: [/server team|application hangs/],
    },
  },
  {
    name: 'tls-expired',
    vip: 'tls',
    fault: (lab) => lab.faults.tlsCertificate('expired'),
    expect: { verdicts: '1:pass 2:fail 3:skipped', culprit: 'lb', finding: 'tls-expired', says: [/expired on/] },
  },
  {
    name: 'tls-not-yet-valid',
    vip: 'tls',
    fault: (lab) => lab.faults.tlsCertificate('not-yet-valid'),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'lb',
      finding: 'tls-not-yet-valid',
      says: [/not valid before/],
    },
  },
  {
    name: 'tls-wrong-name',
    vip: 'tls',
    fault: (lab) => lab.faults.tlsCertificate('wrong-name'),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'lb',
      finding: 'tls-name-mismatch',
      says: [/other\.lab\.test/, new RegExp(`not for ${LAB_TLS_NAME.replaceAll('.', '\\.')}`)],
    },
  },
  {
    name: 'proxy-protocol-expected',
    vip: 'haproxy-http',
    fault: (lab) => lab.faults.proxyProtocolExpected(),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'lb',
      finding: 'proxy-protocol-expected',
      says: [/PROXY protocol/],
    },
  },
  {
    name: 'pool-drift',
    vip: 'nginx',
    fault: (lab) => lab.faults.poolDrift(9090),
    expect: {
      verdicts: '1:pass 2:warn 3:warn',
      culprit: 'lb',
      finding: 'pool-drift',
      says: [/:9090/, /inventory does not list/],
    },
  },
  {
    name: 'lb-drops-syn',
    vip: 'haproxy-http',
    fault: (lab) => lab.faults.lbDropsSyn('haproxy-http'),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'lb',
      finding: 'syn-dropped-on-lb',
      says: [/host firewall/],
    },
  },
  {
    name: 'l4-not-forwarding',
    vip: 'dnat',
    fault: (lab) => lab.faults.lbForwardingOff(),
    expect: {
      verdicts: '1:pass 2:fail 3:skipped',
      culprit: 'lb',
      finding: 'not-forwarding',
      says: [/ip_forward = 0/],
    },
  },
  {
    name: 'vip-silent',
    vip: 'haproxy-http',
    fault: (lab) => lab.faults.vipSilent('haproxy-http'),
    expect: {
      verdicts: '1:pass 2:warn 3:pass',
      culprit: 'lb',
      finding: 'vip-silent',
      says: [/accepts the connection and never answers/],
    },
  },
  {
    name: 'l4-forwards-to-dead-members',
    vip: 'dnat',
    fault: (lab) => lab.faults.allServersDown(),
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'servers',
      finding: 'servers-refuse',
      says: [/still forwards clients/, /no health check/],
      neverSays: [/LB is fine/],
    },
  },
  {
    // A TCP proxy (HAProxy mode tcp, no health checks) with every member down: no connection carries the request,
    // yet the LB's connection to a member the moment it accepted the client shows the kind. This read "Layer 7
    // proxy" with no kind, as if it could be an HTTP one.
    name: 'tcp-proxy-members-down',
    vip: 'haproxy-tcp',
    fault: async (lab) => {
      await lab.faults.haproxyChecksOff('tcp');
      await lab.faults.allServersDown();
    },
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'servers',
      also: (r) => {
        const mode = r.steps.find((s) => s.step === 2);
        assert.ok(mode?.step === 2);
        assert.equal(mode.mode, 'L7');
        assert.equal(mode.proxyKind, 'tcp');
        assert.match(mode.summary, /Layer 7 tcp proxy: .*before the client sent a byte, opened its own connection/);
      },
    },
  },
  {
    name: 'view-haproxy-agrees',
    vip: 'haproxy-http',
    view: true,
    fault: async (lab) => {
      await lab.faults.serverDown('s1');
      await new Promise((r) => setTimeout(r, 1200)); // HAProxy's checks mark s1 down
    },
    expect: {
      verdicts: '1:pass 2:pass 3:warn',
      culprit: 'servers',
      also: viewSays(/HAProxy marks [\d.]+:8080 DOWN \(L4CON\); our probe from the LB is refused too: they agree/),
    },
  },
  {
    name: 'view-haproxy-pool-drift',
    vip: 'haproxy-http',
    view: true,
    fault: async (lab) => {
      await lab.faults.poolDrift(9090, 'haproxy-http');
      await new Promise((r) => setTimeout(r, 1200)); // every server marked down: 503 without a connection
    },
    expect: {
      verdicts: '1:pass 2:warn 3:warn',
      culprit: 'lb',
      finding: 'pool-drift',
      says: [/:9090/, /pool configuration/],
      also: viewSays(/The LB's pool lists [\d.:, ]*9090.*; the inventory says/),
    },
  },
  {
    name: 'view-iptables',
    vip: 'dnat',
    view: true,
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      also: (r) => {
        const view = step3(r)?.lbView;
        if (view?.pool.length !== 3 || view.snat !== true) throw new Error(`iptables view: ${JSON.stringify(view)}`);
      },
    },
  },
  {
    name: 'view-iptables-missing-snat',
    vip: 'dnat',
    view: true,
    fault: (lab) => lab.faults.missingSnat(),
    expect: { verdicts: '1:pass 2:warn 3:pass', culprit: 'return-path', also: viewSays(/have no SNAT/) },
  },
  {
    name: 'view-nginx-pool-drift',
    vip: 'nginx',
    view: true,
    fault: (lab) => lab.faults.poolDrift(9090),
    expect: {
      verdicts: '1:pass 2:warn 3:warn',
      culprit: 'lb',
      finding: 'pool-drift',
      also: viewSays(/The LB's pool lists [\d.:, ]*9090.*; the inventory says/),
    },
  },
  {
    name: 'members-from-capture-only',
    vip: 'nginx',
    members: false,
    expect: {
      verdicts: '1:pass 2:pass 3:pass',
      culprit: 'none',
      also: (r) => {
        const servers = r.steps.find((s) => s.step === 3);
        if (!servers?.summary.includes('were not probed')) throw new Error(`step 3: ${servers?.summary}`);
      },
    },
  },
  {
    name: 'server-blocks-lb',
    vip: 'haproxy-http',
    fault: async (lab) => {
      for (const s of lab.servers) await lab.faults.serverBlocksLb(s.name, 'drop');
    },
    expect: {
      verdicts: '1:pass 2:warn 3:fail',
      culprit: 'lb-to-servers',
      finding: 'lb-blocked',
      also: (r, lab) => {
        if (!r.diagnosis.summary.includes(lab.lbServerSide)) throw new Error(`no LB source: ${r.diagnosis.summary}`);
      },
    },
  },
  ...ESTATE_SCENARIOS,
];

export function assertExpected(r: Pick<Report, 'steps' | 'diagnosis'>, e: Expectation, facts: LabFacts): string[] {
  const problems: string[] = [];
  const verdicts = r.steps.map((s) => `${s.step}:${s.verdict}`).join(' ');
  if (!new RegExp(`^${e.verdicts}$`).test(verdicts)) problems.push(`verdicts ${verdicts}, expected ${e.verdicts}`);
  const culprits = [e.culprit].flat();
  if (!culprits.includes(r.diagnosis.culprit))
    problems.push(`culprit ${r.diagnosis.culprit}, expected ${culprits.join(' or ')}`);
  if (e.finding !== undefined && r.diagnosis.finding !== e.finding)
    problems.push(`finding ${String(r.diagnosis.finding)}, expected ${e.finding}`);
  const mode = r.steps.find((s) => s.step === 2);
  if (e.modeFinding !== undefined && (mode?.name !== 'mode' || mode.finding !== e.modeFinding))
    problems.push(`step 2 finding ${mode?.name === 'mode' ? String(mode.finding) : '-'}, expected ${e.modeFinding}`);
  for (const re of e.says ?? []) if (!re.test(r.diagnosis.summary)) problems.push(`summary lacks ${re}`);
  for (const re of e.neverSays ?? []) if (re.test(r.diagnosis.summary)) problems.push(`summary says ${re}`);
  if (e.also) {
    try {
      e.also(r as Report, facts);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}
