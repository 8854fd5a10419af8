// A real OpenSSH sshd on the lab's LB, with a host key and a client key made
// fresh for each run. The test gets the key path and the pinned fingerprint.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './run-command.js';
import { startInNamespace, waitForListen, type LabProcess } from './processes.js';

export interface LabSsh {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  /** "SHA256:..." as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** "ssh-ed25519 AAAA..." */
  hostPublicKey: string;
}

export interface LabSshd {
  ssh: LabSsh;
  /** Starts sshd with extra sshd_config lines (e.g. to change the session PATH). */
  start(extraConfig?: string[]): Promise<LabProcess>;
}

export async function prepareSshd(ns: string, dir: string, host: string): Promise<LabSshd> {
  const sshDir = join(dir, 'ssh');
  mkdirSync(sshDir, { recursive: true });
  const hostKey = join(sshDir, 'host_ed25519');
  const clientKey = join(sshDir, 'client_ed25519');
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lbcheck-lab-host', '-f', hostKey]);
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lbcheck-lab-client', '-f', clientKey]);
  const authorizedKeys = join(sshDir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = (await runOk(['ssh-keygen', '-l', '-E', 'sha256', '-f', `${hostKey}.pub`])).split(' ')[1];
  if (fingerprint === undefined) throw new Error('could not read the lab host key fingerprint');
  const knownHostsFile = join(sshDir, 'known_hosts');
  writeFileSync(knownHostsFile, `${host} ${hostPublicKey}\n`);

  const config = join(sshDir, 'sshd_config');
  const baseConfig = [
    'Port 22',
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'UseDNS no',
    'AllowTcpForwarding yes',
    'PrintMotd no',
    'MaxSessions 64',
    'MaxStartups 100:30:200',
    'LogLevel ERROR',
  ];
  // sshd refuses to start without its privilege-separation directory, which
  // only the service manager creates on a normal install.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  // The LB gets its own clean root home (a private mount namespace binds one
  // over /root), so the host's shell start-up files do not run on every remote
  // command, as they would not on a real load balancer.
  const home = join(dir, 'lb-root-home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, '.profile'), '# lab LB root profile\n');
  const start = async (extraConfig: string[] = []): Promise<LabProcess> => {
    // sshd takes the first value it reads for a keyword: extras go first to override.
    writeFileSync(config, [...extraConfig, ...baseConfig, ''].join('\n'));
    const proc = startInNamespace(ns, 'sshd', [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$1" /root && exec /usr/sbin/sshd -D -e -f "$2"',
      'lab-sshd',
      home,
      config,
    ]);
    await waitForListen(proc, host, 22);
    return proc;
  };
  return {
    start,
    ssh: {
      host,
      port: 22,
      user: 'root',
      identityFile: clientKey,
      knownHostsFile,
      hostKeyFingerprint: fingerprint,
      hostPublicKey,
    },
  };
}
