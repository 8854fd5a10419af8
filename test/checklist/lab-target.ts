// Check targets for the lab's VIPs, with the lab's SSH access to its LB.
import { readFileSync } from 'node:fs';
import type { CheckOptions, CheckTarget } from '../../src/target/check-target.js';
import type { LbAccess } from '../../src/remote/lb-access.js';
import { newCheckId } from '../../src/model/check-id.js';
import { pinsFromKnownHosts } from '../../src/remote/host-keys.js';
import type { LbViewSpec } from '../../src/checklist/lb-view.js';
import { haproxySocket } from '../lab/lb-configs.js';
import { labFiles, type Lab, type VipKind } from '../lab/lab.js';
import type { LabSsh } from '../lab/sshd.js';

export function labLbAccess(lab: Lab): LbAccess {
  return accessTo(lab.sshInfo, 'lab-lb');
}

/** The HA standby node (test/lab/standby.ts), once started. */
export function standbyLbAccess(lab: Lab): LbAccess {
  if (!lab.standby) throw new Error('the lab standby is not started');
  return accessTo(lab.standby.ssh, 'lab-lb2');
}

/** The lab LB's unprivileged account: privileged commands through sudo -n, allowed by the rules tests write. */
export function sudoLbAccess(lab: Lab): LbAccess {
  const sudo = lab.sshd?.sudo;
  if (!sudo) throw new Error('the lab LB has no unprivileged account');
  return { ...accessTo(sudo.ssh, 'lab-lb-sudo'), sudo: true };
}

function accessTo(ssh: LabSsh, name: string): LbAccess {
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: readFileSync(ssh.identityFile),
    pins: pinsFromKnownHosts(ssh.knownHostsFile, ssh.host, ssh.port),
    captureInterface: 'any',
    label: `${name} (${ssh.host})`,
  };
}

/** Where each lab VIP's LB keeps its own view of the pool. */
export function labView(lab: Lab, kind: VipKind): LbViewSpec {
  switch (kind) {
    case 'haproxy-http':
      return { kind: 'haproxy', socket: haproxySocket(lab.dir, 'http'), backend: 'pool_http' };
    case 'haproxy-tcp':
      return { kind: 'haproxy', socket: haproxySocket(lab.dir, 'tcp'), backend: 'pool_tcp' };
    case 'nginx':
      return { kind: 'nginx', config: labFiles(lab).nginxConf };
    case 'dnat':
      return { kind: 'iptables' };
  }
}

export function labTarget(lab: Lab, kind: VipKind, opts: { members?: boolean; view?: boolean } = {}): CheckTarget {
  const v = lab.vips[kind];
  return {
    ...(opts.view ? { lbView: labView(lab, kind) } : {}),
    vip: v.address,
    port: v.port,
    protocol: 'http',
    tls: false,
    members: opts.members === false ? [] : lab.servers.map((s) => ({ host: s.address, port: s.port })),
    lb: labLbAccess(lab),
  };
}

export function checkOptions(overrides: Partial<CheckOptions> = {}): CheckOptions {
  return { id: newCheckId(), all: false, connectTimeoutMs: 1000, silentMs: 2500, ...overrides };
}
