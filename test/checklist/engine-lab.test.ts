// The checklist engine against every failure mode the lab can produce: the
// step verdicts, the mode, the member outcomes and the culprit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Report, ServersStep } from '../../src/model/report.js';
import { CheckCancelledError, runCheck, type CheckOutcome } from '../../src/checklist/observe/run-check.js';
import { decodePcap } from '../../src/capture/pcap-stream.js';
import { SshSession } from '../../src/remote/ssh-session.js';
import { LAB_TLS_NAME, labFiles, startLab, waitHealthy, type Lab, type VipKind } from '../lab/lab.js';
import { checkOptions, labTarget } from './lab-target.js';

let lab: Lab;
let session: SshSession | undefined;

before(async () => {
  lab = await startLab();
});
after(() => {
  session?.close();
  lab.teardown();
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
  // No remote tcpdump may outlive a check.
  assert.deepEqual(
    lab.processNames('lb').filter((n) => n === 'tcpdump'),
    [],
  );
});

/** Checks reuse one warm SSH session, as a worker does. */
async function check(kind: VipKind, opts: { all?: boolean; members?: boolean } = {}): Promise<CheckOutcome> {
  return runCheck(labTarget(lab, kind, opts), checkOptions({ all: opts.all ?? false }), {
    session: async (lb) => {
      if (!session?.alive) session = await SshSession.open(lb);
      return session;
    },
  });
}

const verdicts = (r: Report): string => r.steps.map((s) => `${s.step}:${s.verdict}`).join(' ');
const step = <N extends 1 | 2 | 3>(r: Report, n: N) => {
  const s = r.steps.find((x) => x.step === n);
  assert.ok(s, `no step ${n}`);
  return s as Extract<Report['steps'][number], { step: N }>;
};

describe('healthy VIPs through each LB kind', () => {
  const expected: Record<VipKind, { mode: string; proxyKind: string | null }> = {
    'haproxy-http': { mode: 'L7', proxyKind: 'http' },
    'haproxy-tcp': { mode: 'L7', proxyKind: 'tcp' },
    nginx: { mode: 'L7', proxyKind: 'http' },
    dnat: { mode: 'L4', proxyKind: null },
  };
  for (const [kind, want] of Object.entries(expected) as [VipKind, (typeof expected)[VipKind]][]) {
    it(`${kind}: all steps pass, mode ${want.mode}${want.proxyKind ? `/${want.proxyKind}` : ''}, culprit none`, async () => {
      const { report, evidence } = await check(kind);
      assert.equal(verdicts(report), '1:pass 2:pass 3:pass', JSON.stringify(report.steps.map((s) => s.summary)));
      const reach = step(report, 1);
      assert.equal(reach.outcome, 'connected');
      assert.equal(reach.lbSawSyn, true);
      assert.equal(reach.answeredBy, 'lb');
      const mode = step(report, 2);
      assert.equal(mode.mode, want.mode);
      assert.equal(mode.proxyKind, want.proxyKind);
      assert.equal(mode.behaviour, 'http-response');
      assert.equal(mode.httpStatus, 200);
      if (kind === 'nginx') assert.match(mode.fingerprint ?? '', /^nginx/);
      const servers = step(report, 3);
      assert.equal(servers.members.length, 3);
      for (const m of servers.members) {
        assert.equal(m.fromLb.outcome, 'connected');
        assert.equal(m.fromLb.via, 'direct-tcpip');
        assert.equal(m.code, 'L7OK');
        assert.equal(m.direct.httpStatus, 200);
      }
      assert.equal(report.diagnosis.culprit, 'none');
      // Evidence: a pcap tcpdump-compatible and holding the probe's SYN, and the exact commands.
      const pcap = evidence.find((e) => e.name === 'step1-lb.pcap');
      assert.ok(pcap);
      const { packets } = decodePcap(pcap.data);
      assert.ok(packets.some((p) => p.tcp?.flags.syn && p.tcp.srcPort === reach.probe.sourcePort));
      const commands = evidence.find((e) => e.name === 'step1-commands.txt')?.data.toString() ?? '';
      assert.match(commands, /timeout -s INT -k 2 \d+ tcpdump -i any -nn -U --immediate-mode -s 262 -c \d+ -w - '/);
      // The capture selects the probe's own flow (busy-LB safety), not every SYN on the LB.
      const v = lab.vips[kind];
      assert.ok(
        commands.includes(`(host ${v.address} and tcp port ${v.port} and tcp port ${reach.probe.sourcePort})`),
        commands,
      );
      for (const e of evidence)
        for (const ref of report.steps.flatMap((s) => s.evidence))
          if (ref.name === e.name && ref.sha256 === e.sha256) assert.equal(ref.bytes, e.data.length);
    });
  }
});

describe('faults before the LB', () => {
  it('drop: step 1 fails, the LB never saw the SYN, culprit path-to-lb, later steps skipped', async () => {
    await lab.faults.dropBeforeLb('haproxy-http');
    const { report } = await check('haproxy-http');
    assert.equal(verdicts(report), '1:fail 2:skipped 3:skipped');
    const reach = step(report, 1);
    assert.equal(reach.outcome, 'timeout');
    assert.equal(reach.lbSawSyn, false);
    assert.equal(reach.answeredBy, 'none');
    assert.equal(report.diagnosis.culprit, 'path-to-lb');
    assert.equal(report.diagnosis.stoppedAfter, 1);
  });

  it('reject with ICMP: refused by ICMP from the router, culprit path-to-lb naming the router', async () => {
    await lab.faults.rejectBeforeLb('nginx', 'icmp-port-unreachable');
    const { report } = await check('nginx');
    const reach = step(report, 1);
    assert.equal(reach.verdict, 'fail');
    assert.equal(reach.outcome, 'refused');
    assert.equal(reach.refusedBy, 'icmp');
    assert.equal(reach.lbSawSyn, false);
    assert.equal(reach.answeredBy, 'other');
    assert.equal(reach.answerFrom, lab.addr.routerClientSide);
    assert.equal(report.diagnosis.culprit, 'path-to-lb');
    assert.ok(report.diagnosis.summary.includes(lab.addr.routerClientSide));
  });

  it('forged reset: refused by a TCP reset the LB never sent, culprit impostor', async () => {
    await lab.faults.impostor('haproxy-tcp', 'reset');
    const { report } = await check('haproxy-tcp');
    const reach = step(report, 1);
    assert.equal(reach.outcome, 'refused');
    assert.equal(reach.refusedBy, 'tcp-reset');
    assert.equal(reach.lbSawSyn, false);
    assert.equal(reach.answeredBy, 'other');
    assert.equal(report.diagnosis.culprit, 'impostor');
  });

  it('hijack: the client even connects, but the LB never saw the SYN, culprit impostor', async () => {
    await lab.faults.impostor('dnat', 'hijack');
    const { report } = await check('dnat');
    const reach = step(report, 1);
    assert.equal(reach.outcome, 'connected');
    assert.equal(reach.lbSawSyn, false);
    assert.equal(report.diagnosis.culprit, 'impostor');
  });

  it('--all runs every step even after step 1 fails', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const { report } = await check('nginx', { all: true });
    assert.equal(step(report, 1).verdict, 'fail');
    // Step 2 ran, and does not contradict step 1: nothing reached the LB, so there is nothing to judge.
    const mode = step(report, 2);
    assert.equal(mode.finding, 'not-reached');
    assert.match(mode.summary, /never reached the LB/);
    assert.doesNotMatch(mode.summary, /LB received the SYN/);
    assert.equal(step(report, 3).verdict, 'pass');
    assert.equal(report.diagnosis.culprit, 'path-to-lb');
    assert.equal(report.diagnosis.stoppedAfter, undefined);
  });
});

describe('faults on the LB', () => {
  for (const kind of ['haproxy-http', 'dnat'] as const) {
    it(`VIP not listening (${kind}): the LB refuses by itself, step 2 fails, culprit lb`, async () => {
      await lab.faults.vipNotListening(kind);
      const { report } = await check(kind);
      assert.equal(verdicts(report), '1:pass 2:fail 3:skipped');
      const reach = step(report, 1);
      assert.equal(reach.outcome, 'refused');
      assert.equal(reach.refusedBy, 'tcp-reset');
      assert.equal(reach.answeredBy, 'lb');
      assert.equal(step(report, 2).behaviour, 'refused');
      assert.equal(report.diagnosis.culprit, 'lb');
    });
  }

  it('tcpdump missing on the LB: a clear error naming the LB and what to install', async () => {
    await lab.faults.tcpdumpMissing();
    // Sessions opened before the fault keep the old environment, as on a real LB.
    session?.close();
    try {
      await assert.rejects(check('haproxy-http'), (err: Error) => {
        assert.equal(err.name, 'CaptureUnavailableError');
        assert.match(err.message, /tcpdump is not installed on the LB root@/);
        assert.match(err.message, /Install tcpdump/);
        return true;
      });
    } finally {
      session?.close();
      session = undefined;
    }
  });

  it('tcpdump not permitted for the SSH account: a clear error saying what rights the capture needs', async () => {
    await lab.faults.tcpdumpNotPermitted();
    session?.close();
    try {
      await assert.rejects(check('nginx'), (err: Error) => {
        assert.equal(err.name, 'CaptureUnavailableError');
        assert.match(err.message, /the SSH user on root@[\d.]+:22 may not capture packets \(.*permission/i);
        assert.match(err.message, /CAP_NET_RAW/);
        return true;
      });
    } finally {
      session?.close();
      session = undefined;
    }
  });
});

/** Established TCP connections from this machine to the lab LB's sshd. */
function sshConnectionsToLb(): number {
  const out = spawnSync('ss', ['-Htn', 'state', 'established', 'dst', `${lab.sshInfo.host}:22`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

async function untilNoSshToLb(what: string): Promise<void> {
  // A bound for a hung test, not a speed target: the condition is the assertion.
  for (let i = 0; i < 100 && sshConnectionsToLb() > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(sshConnectionsToLb(), 0, what);
}

describe('cancelling', () => {
  it('cancelled while its SSH connection is still opening: the check ends cancelled and closes that connection', async () => {
    session?.close();
    session = undefined;
    await untilNoSshToLb('a connection from an earlier test is still open');
    const controller = new AbortController();
    // No session given: the check opens (and owns) its connection; the cancel comes while it is opening.
    const checking = runCheck(labTarget(lab, 'nginx'), checkOptions(), { signal: controller.signal });
    controller.abort();
    await assert.rejects(checking, CheckCancelledError);
    // The connection goes on opening after the cancel: wait until it is up (or was closed too fast to see).
    for (let i = 0; i < 100 && sshConnectionsToLb() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await untilNoSshToLb('the connection the cancelled check opened was left open');
  });
});

describe('a TLS VIP', () => {
  it('handshake with SNI, certificate recorded; TLS termination is an L7 http proxy; all steps pass', async () => {
    const target = {
      ...labTarget(lab, 'haproxy-http'),
      vip: lab.tlsVip.address,
      port: lab.tlsVip.port,
      tls: true,
      sni: LAB_TLS_NAME,
      // The lab CA signed the VIP's certificate: the check trusts what its clients would.
      caFile: labFiles(lab).tlsCa,
    };
    const { report } = await runCheck(target, checkOptions(), {
      session: async (lb) => (session?.alive ? session : (session = await SshSession.open(lb))),
    });
    assert.equal(verdicts(report), '1:pass 2:pass 3:pass');
    const mode = step(report, 2);
    assert.equal(mode.tls?.subject, LAB_TLS_NAME);
    assert.equal(mode.tls?.sni, LAB_TLS_NAME);
    assert.match(mode.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.ok(Date.parse(mode.tls?.validTo ?? '') > Date.now());
    assert.equal(mode.tls?.trust?.authorized, true);
    assert.equal(mode.mode, 'L7');
    assert.equal(mode.proxyKind, 'http');
    assert.equal(mode.httpStatus, 200);
    assert.equal(report.target.tls, true);
  });
});

describe('faults behind the LB', () => {
  it('all servers down behind L7: the proxy answers 503 itself, step 3 fails, culprit servers', async () => {
    await lab.faults.allServersDown();
    const { report } = await check('haproxy-http');
    assert.equal(verdicts(report), '1:pass 2:warn 3:fail');
    const mode = step(report, 2);
    assert.equal(mode.mode, 'L7');
    assert.equal(mode.httpStatus, 503);
    assert.match(mode.fingerprint ?? '', /HAProxy/);
    assert.ok(
      step(report, 3).members.every(
        (m) => m.fromLb.outcome === 'refused' && m.direct.outcome === 'refused' && m.code === 'L4CON',
      ),
    );
    assert.equal(report.diagnosis.culprit, 'servers');
  });

  it('TCP proxy with no servers: accepts, then closes without a byte; culprit servers', async () => {
    await lab.faults.allServersDown();
    const { report } = await check('haproxy-tcp');
    const mode = step(report, 2);
    assert.equal(mode.mode, 'L7');
    assert.ok(mode.behaviour === 'closed' || mode.behaviour === 'reset', mode.behaviour);
    assert.equal(step(report, 1).outcome, 'connected');
    assert.equal(report.diagnosis.culprit, 'servers');
  });

  it('all servers down behind L4: the client is refused by the forwarded reset; mode L4, culprit servers', async () => {
    await lab.faults.allServersDown();
    const { report } = await check('dnat');
    assert.equal(verdicts(report), '1:pass 2:warn 3:fail');
    assert.equal(step(report, 1).outcome, 'refused');
    const mode = step(report, 2);
    assert.equal(mode.mode, 'L4');
    assert.ok(mode.serverSide.some((s) => s.sameIsn));
    assert.equal(report.diagnosis.culprit, 'servers');
  });

  it('one server down: the VIP works, step 3 warns and names it, culprit servers', async () => {
    await lab.faults.serverDown('s1');
    const { report } = await check('haproxy-http');
    const servers: ServersStep = step(report, 3);
    assert.equal(servers.verdict, 'warn');
    const s1 = servers.members.find((m) => m.address.startsWith(`${lab.servers[0]?.address}:`));
    assert.equal(s1?.fromLb.outcome, 'refused');
    assert.equal(servers.members.filter((m) => m.fromLb.outcome === 'connected').length, 2);
    assert.equal(report.diagnosis.culprit, 'servers');
    assert.ok(report.diagnosis.summary.includes(lab.servers[0]?.address ?? '?'));
  });

  for (const how of ['drop', 'reject'] as const) {
    it(`a server ${how === 'drop' ? 'dropping' : 'rejecting'} only the LB: direct works, from the LB ${how === 'drop' ? 'times out' : 'is refused'}; culprit lb-to-servers`, async () => {
      await lab.faults.serverBlocksLb('s2', how);
      const { report } = await check('haproxy-http');
      const s2 = step(report, 3).members.find((m) => m.address.startsWith(`${lab.servers[1]?.address}:`));
      assert.equal(s2?.direct.outcome, 'connected');
      assert.equal(s2?.fromLb.outcome, how === 'drop' ? 'timeout' : 'refused');
      assert.equal(s2?.code, how === 'drop' ? 'L4TOUT' : 'L4CON');
      assert.equal(report.diagnosis.culprit, 'lb-to-servers');
    });
  }

  it('missing SNAT: the LB forwards the client SYN unchanged and nothing returns through it; culprit return-path', async () => {
    await lab.faults.missingSnat();
    const { report } = await check('dnat');
    const reach = step(report, 1);
    assert.equal(reach.verdict, 'pass');
    assert.equal(reach.outcome, 'timeout');
    const mode = step(report, 2);
    assert.equal(mode.mode, 'L4');
    const forwarded = mode.serverSide.find((s) => s.sameIsn);
    assert.ok(forwarded);
    assert.equal(forwarded.sourceIsClient, true);
    assert.equal(forwarded.answered, false);
    assert.equal(step(report, 3).verdict, 'pass');
    assert.equal(report.diagnosis.culprit, 'return-path');
  });

  it('without configured members, step 3 probes the members seen in the capture', async () => {
    const { report } = await check('haproxy-tcp', { members: false });
    const servers = step(report, 3);
    assert.ok(servers.members.length >= 1);
    assert.ok(servers.members.every((m) => m.source === 'discovered'));
    assert.equal(servers.verdict, 'pass');
  });
});
