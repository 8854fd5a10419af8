// Long-running lab daemons. Each is started inside its namespace under
// `setpriv --pdeathsig KILL`, so even if the test process is killed outright the
// kernel takes its daemons with it; teardown also kills whatever is left in the
// namespaces (for example a remote tcpdump started through sshd).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export class LabProcess {
  private stderrTail = '';
  private exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
    child.stdout?.resume();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function startInNamespace(ns: string, name: string, argv: readonly string[]): LabProcess {
  const child = spawn('ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', '--', ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new LabProcess(name, child);
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until host:port accepts a TCP connection from the test process. */
export async function waitForListen(proc: LabProcess, host: string, port: number, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!proc.running) {
      throw new Error(`${proc.name} exited before listening on ${host}:${port}: ${proc.stderr.trim()}`);
    }
    if (await tryConnect(host, port, 500)) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`${proc.name} did not listen on ${host}:${port} within ${withinMs} ms: ${proc.stderr.trim()}`);
}
