// The seed's procedure done by hand, as a shell script an on-call engineer
// would write: one multiplexed OpenSSH connection to the LB, tcpdump there
// until it reports listening, bash /dev/tcp to the VIP and curl for GET /,
// then GET / to each member from the LB over the same connection, stop
// tcpdump (its own pid: the LB shares this machine's process table, so a
// pkill would stop other runs' captures too), close the connection. The benchmark runs it as a whole process
// beside `lbcheck run`.
import { spawn, spawnSync } from 'node:child_process';
import type { Lab } from '../lab/lab.js';

/**
 * The script; with `keptMaster` (a control socket from startKeptMaster), the OpenSSH master is already up and
 * stays up, as with ControlPersist: the script neither opens nor closes it.
 */
export function shellProcedure(
  lab: Lab,
  vip: string,
  port: number,
  members: readonly string[],
  keptMaster?: string,
): string {
  const s = lab.sshInfo;
  const memberProbes = members.map((m) => {
    const [h = '', p = ''] = m.split(':');
    return `ssh $o root@${s.host} "timeout 2 bash -c 'exec 3<>/dev/tcp/${h}/${p} && printf \\"GET / HTTP/1.1\\\\r\\\\nHost: x\\\\r\\\\nConnection: close\\\\r\\\\n\\\\r\\\\n\\" >&3 && head -1 <&3'" > /dev/null`;
  });
  return `
set -e
${keptMaster ? `sock=${keptMaster}` : 'sock=$(mktemp -u /tmp/lbcheck-bench-XXXXXX)'}
o="-i ${s.identityFile} -o UserKnownHostsFile=${s.knownHostsFile} -o BatchMode=yes -S $sock"
${keptMaster ? '' : `ssh $o -M -fN root@${s.host}`}
ssh $o root@${s.host} "echo \\$\\$ > $sock.pid; exec timeout 10 tcpdump -i any -nn -U host ${vip} and tcp port ${port}" > $sock.pcap.txt 2>$sock.err &
until grep -q 'listening on' $sock.err 2>/dev/null; do sleep 0.05; done
timeout 2 bash -c 'exec 3<>/dev/tcp/${vip}/${port}' 
curl -s -m 3 -o /dev/null -w '%{http_code}' http://${vip}:${port}/ > /dev/null
${memberProbes.join('\n')}
ssh $o root@${s.host} "kill -INT \\$(cat $sock.pid)"
wait
${keptMaster ? '' : `ssh $o -O exit root@${s.host} 2>/dev/null`}
rm -f $sock.err $sock.pcap.txt $sock.pid
`;
}

/** Runs a script with bash and resolves with its wall time in ms; rejects with its stderr when it fails. */
export function timeShell(script: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`shell procedure failed (${code}): ${err}`)),
    );
  });
}

/** An OpenSSH master to the lab LB kept up between scripts (ControlPersist's effect); returns its socket. */
export function startKeptMaster(lab: Lab): string {
  const s = lab.sshInfo;
  const sock = `/tmp/lbcheck-bench-master-${process.pid}`;
  const o = ['-i', s.identityFile, '-o', `UserKnownHostsFile=${s.knownHostsFile}`, '-o', 'BatchMode=yes', '-S', sock];
  const r = spawnSync('ssh', [...o, '-M', '-fN', `root@${s.host}`]);
  if (r.status !== 0) throw new Error(`ssh -M to the lab LB failed: ${r.stderr.toString()}`);
  return sock;
}

export function stopKeptMaster(lab: Lab, sock: string): void {
  spawnSync('ssh', ['-S', sock, '-O', 'exit', `root@${lab.sshInfo.host}`]);
}
