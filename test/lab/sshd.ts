// A real OpenSSH sshd on the lab's LB, with a host key and a client key made
// fresh for each run. The test gets the key path and the pinned fingerprint.
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The LB's unprivileged account (issue 17: no root needed), in the sshd's own copy of /etc/passwd. */
export const LAB_SUDO_USER = 'lbcheck-lab';
const LAB_SUDO_UID = 64123;

export interface LabSudo {
  /** LabSsh for the unprivileged account (same host, host key and client key). */
  ssh: LabSsh;
  /** The sshd's /etc/sudoers (bind-mounted for the LB's sshd and its sessions only): tests write the rules. */
  sudoersFile: string;
  /** Every command sudo ran or refused on the LB (sudo's own log, `Defaults logfile`). */
  logFile: string;
  /** What the LB's sshd and its sessions see as /usr/local/sbin (where the install script puts the helpers). */
  helperDir: string;
  /** What they see as /etc/sudoers.d (included by the lab's sudoers, as on Debian). */
  sudoersDir: string;
}

export interface LabSshd {
  ssh: LabSsh;
  /** The unprivileged account with sudo, when prepareSshd was asked for it. */
  sudo?: LabSudo;
  /** Starts sshd with extra sshd_config lines (e.g. to change the session PATH). */
  start(extraConfig?: string[]): Promise<LabProcess>;
}

/**
 * Files the LB's sshd sees instead of the host's (bind mounts in its private mount namespace): /etc/passwd,
 * /etc/group and /etc/shadow with the unprivileged account added, and a sudoers the tests write. Nothing on
 * the host changes.
 */
function prepareSudoUser(
  dir: string,
  sshDir: string,
  clientPub: Buffer,
  base: LabSsh,
): { sudo: LabSudo; binds: string[][] } {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  const home = join(dir, `${LAB_SUDO_USER}-home`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, LAB_SUDO_UID, LAB_SUDO_UID);
  // The account reads its authorized_keys itself (sshd drops to it to open the file), through the lab's directories.
  for (const d of [dir, sshDir]) chmodSync(d, 0o711);
  const keys = join(sshDir, `authorized_keys_${LAB_SUDO_USER}`);
  writeFileSync(keys, clientPub, { mode: 0o600 });
  chownSync(keys, LAB_SUDO_UID, LAB_SUDO_UID);
  const add = (name: string, line: string, mode: number): string[] => {
    const file = join(etc, name);
    writeFileSync(file, `${readFileSync(`/etc/${name}`, 'utf8').trimEnd()}\n${line}\n`, { mode });
    return [file, `/etc/${name}`];
  };
  const sudoersFile = join(etc, 'sudoers');
  const logFile = join(dir, 'sudo.log');
  writeFileSync(sudoersFile, labSudoers(logFile, []), { mode: 0o440 });
  // Root's own, as on an LB: the install script refuses directories anyone else could write to.
  const helperDir = join(dir, 'lb-usr-local-sbin');
  const sudoersDir = join(etc, 'sudoers.d');
  for (const d of [helperDir, sudoersDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  return {
    sudo: { ssh: { ...base, user: LAB_SUDO_USER }, sudoersFile, logFile, helperDir, sudoersDir },
    binds: [
      [helperDir, '/usr/local/sbin'],
      [sudoersDir, '/etc/sudoers.d'],
      add('passwd', `${LAB_SUDO_USER}:x:${LAB_SUDO_UID}:${LAB_SUDO_UID}:lbcheck lab LB account:${home}:/bin/sh`, 0o644),
      add('group', `${LAB_SUDO_USER}:x:${LAB_SUDO_UID}:`, 0o644),
      add('shadow', `${LAB_SUDO_USER}:*:19000:0:99999:7:::`, 0o640),
      [sudoersFile, '/etc/sudoers'],
    ],
  };
}

/** The lab's sudoers: sudo logs every command to logFile; `rules` are the lines under test. */
export function labSudoers(logFile: string, rules: string[]): string {
  // Debian 12's own defaults first (use_pty included, no secure_path: the printed rules bring it), as on a stock LB.
  return [
    'Defaults env_reset',
    'Defaults mail_badpass',
    'Defaults use_pty',
    `Defaults logfile=${logFile}`,
    'Defaults loglinelen=0',
    'Defaults !syslog',
    'root ALL=(ALL:ALL) ALL',
    ...rules,
    '@includedir /etc/sudoers.d',
    '',
  ].join('\n');
}

export async function prepareSshd(
  ns: string,
  dir: string,
  host: string,
  opts: { sudoUser?: boolean } = {},
): Promise<LabSshd> {
  const sshDir = join(dir, 'ssh');
  mkdirSync(sshDir, { recursive: true });
  const hostKey = join(sshDir, 'host_ed25519');
  const clientKey = join(sshDir, 'client_ed25519');
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lbcheck-lab-host', '-f', hostKey]);
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'lbcheck-lab-client', '-f', clientKey]);
  // One file per account (%u), so the unprivileged account can own its own.
  const authorizedKeys = join(sshDir, 'authorized_keys_%u');
  writeFileSync(join(sshDir, 'authorized_keys_root'), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
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
  const ssh: LabSsh = {
    host,
    port: 22,
    user: 'root',
    identityFile: clientKey,
    knownHostsFile,
    hostKeyFingerprint: fingerprint,
    hostPublicKey,
  };
  const withSudo = opts.sudoUser ? prepareSudoUser(dir, sshDir, readFileSync(`${clientKey}.pub`), ssh) : undefined;
  const binds = [[home, '/root'], ...(withSudo?.binds ?? [])];
  // ${N}, not $N: there are more than nine arguments.
  const mounts = binds.map((_, i) => `mount --bind "\${${i + 2}}" "\${${i + 2 + binds.length}}"`).join(' && ');
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
      `${mounts} && exec /usr/sbin/sshd -D -e -f "$1"`,
      'lab-sshd',
      config,
      ...binds.map((b) => b[0] ?? ''),
      ...binds.map((b) => b[1] ?? ''),
    ]);
    await waitForListen(proc, host, 22);
    return proc;
  };
  return { start, ssh, ...(withSudo ? { sudo: withSudo.sudo } : {}) };
}
