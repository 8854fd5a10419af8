// The kept process behind `lbcheck run --persist` (as OpenSSH's
// ControlPersist master): it holds each LB's SSH session (warm login shells
// too) and a shared capture per target between runs, so a run pays neither
// node's start and module loading nor a handshake nor tcpdump's start. It runs
// one check at a time (another run meanwhile is told it is busy and runs on
// its own), the same `lbcheck run` code on the same command line, and ends
// after its idle time, closing every session and capture it holds.
import { existsSync, chmodSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { CaptureHubs, DEFAULT_HUBS_OPTIONS } from '../capture/capture-hubs.js';
import { ProxyKindMemory } from '../checklist/observe/proxy-kind-memory.js';
import { SessionPool } from '../remote/session-pool.js';
import { failureText } from './main.js';
import { line, LineReader, MAX_REQUEST_BYTES, type PersistRequest } from './persist-protocol.js';
import { parseRunArgs } from './run-args.js';
import { runParsed } from './run-command.js';

const REQUEST = z.strictObject({
  args: z.array(z.string().max(4096)).max(256),
  cwd: z.string().refine(isAbsolute, 'an absolute directory'),
  persistSeconds: z.number().int().min(1).max(3600),
});

/** How long a connection may take to say what it wants. */
const REQUEST_TIMEOUT_MS = 2000;

/** Whether something already answers on the socket (another kept process won the race to start). */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socket);
    probe.on('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

/** The first line of a connection: the run it asks for, or undefined (bad, too long, too slow). */
function readRequest(conn: Socket): Promise<PersistRequest | undefined> {
  return new Promise((resolve) => {
    const reader = new LineReader();
    const timer = setTimeout(() => done(undefined), REQUEST_TIMEOUT_MS);
    const done = (r: PersistRequest | undefined): void => {
      clearTimeout(timer);
      conn.removeListener('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      const [first] = reader.push(chunk);
      if (first !== undefined) {
        const parsed = REQUEST.safeParse(safeJson(first));
        done(parsed.success ? parsed.data : undefined);
      } else if (reader.pending > MAX_REQUEST_BYTES) done(undefined);
    };
    conn.on('data', onData);
    conn.on('close', () => done(undefined));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export class PersistServer {
  private readonly sessions = new SessionPool();
  private readonly hubs = new CaptureHubs(DEFAULT_HUBS_OPTIONS);
  private readonly proxyKinds = new ProxyKindMemory();
  private readonly server: Server;
  private busy = false;
  /** The socket file this process created, told apart from a later one at the same path. */
  private listenedInode: number | undefined;
  private idle: NodeJS.Timeout | undefined;
  private ended: Promise<void> | undefined;
  private finish: () => void = () => undefined;
  /** Settles once the sessions and captures are closed (idle time up, or end() called). */
  readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(
    private readonly socket: string,
    private idleSeconds: number,
  ) {
    this.server = createServer((conn) => void this.serve(conn));
  }

  /** Listens on the socket (only this user may connect); false when another kept process already does. */
  async listen(): Promise<boolean> {
    if (existsSync(this.socket)) {
      if (await answers(this.socket)) return false;
      unlinkSync(this.socket); // left by a kept process that was killed
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socket, resolve);
    });
    chmodSync(this.socket, 0o600);
    this.listenedInode = statSync(this.socket).ino;
    this.idleFromNow();
    return true;
  }

  /** Closes every session and capture, and the socket; settles when they are gone. */
  end(): Promise<void> {
    this.ended ??= (async () => {
      clearTimeout(this.idle);
      this.server.close();
      // Only our own socket: a newer kept process may have taken the path since.
      if (existsSync(this.socket) && statSync(this.socket).ino === this.listenedInode) unlinkSync(this.socket);
      await this.hubs.closeAll();
      await this.sessions.closeAll();
      this.finish();
    })();
    return this.ended;
  }

  private idleFromNow(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.end(), this.idleSeconds * 1000);
  }

  private async serve(conn: Socket): Promise<void> {
    conn.on('error', () => undefined); // a client that went away: its run is cancelled below
    const request = await readRequest(conn);
    if (!request) return void conn.destroy();
    if (this.busy || this.ended) return void conn.end(line({ busy: true }));
    this.busy = true;
    clearTimeout(this.idle);
    try {
      const code = await this.run(request, conn);
      conn.end(line({ exit: code }));
    } finally {
      this.busy = false;
      this.idleSeconds = request.persistSeconds;
      if (!this.ended) this.idleFromNow();
    }
  }

  /** The run, as `lbcheck run` with these arguments in the client's directory, cancelled if the client leaves. */
  private async run(request: PersistRequest, conn: Socket): Promise<number> {
    const cancel = new AbortController();
    const onClose = (): void => cancel.abort();
    conn.once('close', onClose);
    const send = (text: string, to: 'stdout' | 'stderr'): void => {
      if (!conn.destroyed) conn.write(line(to === 'stdout' ? { stdout: text } : { stderr: text }));
    };
    try {
      process.chdir(request.cwd);
      const kept = { sessions: this.sessions, hubs: this.hubs, proxyKinds: this.proxyKinds, signal: cancel.signal };
      const out = { stdout: (t: string) => send(t, 'stdout'), stderr: (t: string) => send(t, 'stderr') };
      return await runParsed(parseRunArgs(request.args), out, kept);
    } catch (err) {
      const { text, code } = failureText(err);
      send(text, 'stderr');
      return code;
    } finally {
      conn.removeListener('close', onClose);
      process.chdir('/');
    }
  }
}
