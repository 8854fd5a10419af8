// The lab needs root and a handful of system binaries. Missing pieces fail the
// test with what is missing and how to get it, never a silent skip.
import { accessSync, constants } from 'node:fs';

const REQUIRED: { bin: string; pkg: string }[] = [
  { bin: '/usr/sbin/ip', pkg: 'iproute2' },
  { bin: '/usr/sbin/iptables', pkg: 'iptables' },
  { bin: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { bin: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { bin: '/usr/bin/tcpdump', pkg: 'tcpdump' },
  { bin: '/usr/sbin/haproxy', pkg: 'haproxy' },
  { bin: '/usr/sbin/nginx', pkg: 'nginx' },
  { bin: '/usr/bin/setpriv', pkg: 'util-linux' },
  { bin: '/usr/bin/unshare', pkg: 'util-linux' },
  { bin: '/usr/bin/timeout', pkg: 'coreutils' },
  { bin: '/usr/bin/openssl', pkg: 'openssl' },
  // The busy-LB fault: thousands of SYNs a second to another address on the LB.
  { bin: '/usr/sbin/hping3', pkg: 'hping3' },
  // The LB view: HAProxy's runtime API is read over its stats socket with socat.
  { bin: '/usr/bin/socat', pkg: 'socat' },
  // An unprivileged LB account runs tcpdump and the LB view through sudo (issue 17).
  { bin: '/usr/bin/sudo', pkg: 'sudo' },
];

export class LabPreflightError extends Error {
  override name = 'LabPreflightError';
}

export function labPreflight(): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('the lab builds network namespaces and must run as root (run the tests as root, as .ci/run does)');
  }
  const missing = REQUIRED.filter(({ bin }) => {
    try {
      accessSync(bin, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
    problems.push(
      `missing ${missing.map((m) => m.bin).join(', ')}; install with: apt-get update && apt-get install -y ${pkgs} ` +
        `(bash .ci/run does this on a fresh machine)`,
    );
  }
  if (problems.length > 0) throw new LabPreflightError(`lab cannot start: ${problems.join('; ')}`);
}
