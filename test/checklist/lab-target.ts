// Check targets for the lab's VIPs, with the lab's SSH access to its LB.
import { readFileSync } from 'node:fs';
import type { CheckOptions, CheckTarget, LbAccess } from '../../src/checklist/check-target.js';
import { newCheckId } from '../../src/checklist/run-check.js';
import { pinsFromKnownHosts } from '../../src/remote/host-keys.js';
import type { Lab, VipKind } from '../lab/lab.js';

export function labLbAccess(lab: Lab): LbAccess {
  const ssh = lab.sshInfo;
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: readFileSync(ssh.identityFile),
    pins: pinsFromKnownHosts(ssh.knownHostsFile, ssh.host, ssh.port),
    captureInterface: 'any',
    label: `lab-lb (${ssh.host})`,
  };
}

export function labTarget(lab: Lab, kind: VipKind, opts: { members?: boolean } = {}): CheckTarget {
  const v = lab.vips[kind];
  return {
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
