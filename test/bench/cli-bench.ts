// Issue 16's figures, measured as whole processes, side by side in one run:
// `lbcheck --help`, and `lbcheck run` on the healthy nginx VIP (two members,
// a new SSH connection each time: a new process) against the seed's
// procedure done by hand (shell-procedure.ts). The lab LB's root login shell
// gets a ~0.3 s start-up file, as real LBs with vendor shells have: every
// remote command the shell script runs pays it, and so does lbcheck's
// capture, once (its other commands go to shells started at the same time:
// warm channels, src/remote/warm-channels.ts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../lab/lab.js';
import { shellProcedure, timeShell } from './shell-procedure.js';
import { line, median } from './stats.js';
export { runArgsFor, sshCommandMs, timeCli };

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
const RUNS = 7;
const SHELL_STARTUP_S = 0.3;

/**
 * The environment lbcheck runs with. This machine sets NODE_EXTRA_CA_CERTS (the system bundle), and Node 20 reads
 * and parses that whole file at every start, before any code runs: ~50 ms here (`node -e 0` 0.02 s without it,
 * 0.07 s with it). A user's shell rarely sets it, and `lbcheck run` makes no TLS connection that verifies a chain
 * (tls-upgrade.ts), so the targets are judged without it; the figure with it is printed beside.
 */
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS;
function cliEnv(withExtraCa: boolean, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LBCHECK_CONFIG: '', ...extra };
  if (!withExtraCa) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs the CLI as a new process; resolves with its wall time, rejects with its output when it fails. */
function timeCli(args: string[], expect?: RegExp, withExtraCa = false, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: cliEnv(withExtraCa, env) });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code === 0 && (expect === undefined || expect.test(out))) resolve(ms);
      else reject(new Error(`lbcheck ${args.join(' ')} failed (${code}):\n${out}`));
    });
  });
}

const sshSession = new URL('../../src/remote/ssh-session.js', import.meta.url).href;

/** How a new lbcheck process loads ssh2 (src/remote/ssh2-client.ts): the bundle with its code cache, as built. */
function ssh2LoadPath(): string {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { sshClientSource } from '${sshSession}'; console.log(sshClientSource);`],
    { encoding: 'utf8', env: cliEnv(false) },
  );
  return r.status === 0 ? r.stdout.trim() : `unknown (${r.stderr.trim()})`;
}

/** What one remote command costs now: a plain `ssh lb true` with a new connection. */
function sshCommandMs(lab: Lab): number {
  const s = lab.sshInfo;
  const t = performance.now();
  const r = spawnSync('ssh', [
    '-i',
    s.identityFile,
    '-o',
    `UserKnownHostsFile=${s.knownHostsFile}`,
    '-o',
    'BatchMode=yes',
    `root@${s.host}`,
    'true',
  ]);
  if (r.status !== 0) throw new Error(`ssh to the lab LB failed: ${r.stderr.toString()}`);
  return performance.now() - t;
}

/** `lbcheck run` on the healthy nginx VIP with two members, the lab's LB as root with its client key. */
function runArgsFor(lab: Lab): { args: string[]; members: string[] } {
  const v = lab.vips.nginx;
  const members = lab.servers.slice(0, 2).map((s) => `${s.address}:${s.port}`);
  const s = lab.sshInfo;
  const args = [
    'run',
    `${v.address}:${v.port}`,
    '--lb',
    `ssh://root@${s.host}`,
    '--identity',
    s.identityFile,
    '--known-hosts',
    s.knownHostsFile,
    ...members.flatMap((m) => ['--member', m]),
  ];
  return { args, members };
}

export async function benchCli(lab: Lab): Promise<string[]> {
  if (!existsSync('/usr/bin/curl')) throw new Error('the shell procedure needs curl: apt-get install -y curl');
  const out = ['CLI (issue 16): whole processes; lbcheck run vs the seed procedure by hand, side by side'];
  const help: number[] = [];
  const helpCa: number[] = [];
  for (let i = 0; i < 10; i++) {
    help.push(await timeCli(['--help'], /lbcheck run <target>/));
    if (EXTRA_CA) helpCa.push(await timeCli(['--help'], /lbcheck run <target>/, true));
  }
  const h = median(help) / 1000;
  out.push(line('lbcheck --help, wall (median of 10)', `${h.toFixed(3)} s`, '< 0.2 s', h < 0.2));
  if (EXTRA_CA) out.push(line("  with this machine's NODE_EXTRA_CA_CERTS", `${(median(helpCa) / 1000).toFixed(3)} s`));

  const v = lab.vips.nginx;
  const { args: runArgs, members } = runArgsFor(lab);
  const plainSsh = sshCommandMs(lab);
  const undo = await lab.faults.loginShellStartup(`# a vendor shell's start-up cost\nsleep ${SHELL_STARTUP_S}`);
  try {
    const slowSsh = sshCommandMs(lab);
    out.push(
      `  (the lab LB's root shell sleeps ${SHELL_STARTUP_S} s at start-up, as vendor shells cost: ` +
        `ssh lb true took ${Math.round(plainSsh)} ms before, ${Math.round(slowSsh)} ms with it)`,
    );
    const script = shellProcedure(lab, v.address, v.port, members);
    const runs: number[] = [];
    const runsCa: number[] = [];
    const shell: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternating, so all see the same machine load.
      runs.push(await timeCli(runArgs, /No fault found/));
      if (EXTRA_CA) runsCa.push(await timeCli(runArgs, /No fault found/, true));
      shell.push(await timeShell(script));
    }
    const r = median(runs) / 1000;
    const sh = median(shell) / 1000;
    if (EXTRA_CA) {
      out.push(
        '  (this machine sets NODE_EXTRA_CA_CERTS, which Node 20 parses at every start: lbcheck is timed without ' +
          'it, and with it beside)',
      );
    }
    out.push(`  (ssh2 loads from: ${ssh2LoadPath()}; "package" means the build had no esbuild: ~25 ms slower)`);
    out.push(
      line(`lbcheck run, healthy nginx VIP, new SSH (median of ${RUNS})`, `${r.toFixed(2)} s`, '< 1.0 s', r < 1),
    );
    if (EXTRA_CA)
      out.push(line("  with this machine's NODE_EXTRA_CA_CERTS", `${(median(runsCa) / 1000).toFixed(2)} s`));
    out.push(line(`by hand: ssh -M, tcpdump, /dev/tcp, curl (median of ${RUNS})`, `${sh.toFixed(2)} s`));
    out.push(line('by hand / lbcheck run', `${(sh / r).toFixed(1)}x`, '≥ 4x', sh / r >= 4));
    if (EXTRA_CA)
      out.push(line("  with this machine's NODE_EXTRA_CA_CERTS", `${((sh * 1000) / median(runsCa)).toFixed(1)}x`));
  } finally {
    await undo();
  }
  return out;
}
