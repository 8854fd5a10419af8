// One pinned, kept-alive SSH connection to a load balancer. Every remote
// command is a channel on it (no pty), so a check pays milliseconds per
// command rather than a handshake; every command line run is recorded for the
// evidence. A few channels are opened ahead of need (warm-channels.ts), so a
// command does not wait for the LB's login shell to start.
import { Socket } from 'node:net';
import type { Client, ClientChannel } from 'ssh2';
import type { Preconnected } from './preconnect.js';
import { verifyHostKey, type HostKeyPins, type HostKeyVerdict } from './host-keys.js';
import { commandLine } from './shell-quote.js';
import {
  HostKeyMismatchError,
  HostKeyUnknownError,
  SshAuthError,
  SshConnectionLostError,
  SshUnreachableError,
} from './ssh-errors.js';
import { WarmChannels, type ExitStatus, type OpenedExec } from './warm-channels.js';
import { loadSshClient } from './ssh2-client.js';
import { LbcheckError } from '../errors.js';

/** ssh2's Client, from the build's bundle with its code cache when there is one (ssh2-client.ts). */
const loaded = loadSshClient();
const SshClient = loaded.Client;
/** How ssh2 was loaded in this process: the bench prints it beside the CLI's figures. */
export const sshClientSource = loaded.source;

export interface SshOptions {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  pins: HostKeyPins & { revoked?: string[] };
  readyTimeoutMs?: number;
  keepaliveMs?: number;
  /** A TCP connection to host:port opened earlier (preconnect.ts); else one is opened here. */
  preconnected?: Preconnected;
  /** The account is not root: run the privileged commands through `sudo -n` (sudo.ts). */
  sudo?: boolean;
  /**
   * Exec channels kept open and waiting for a command (warm-channels.ts), from the moment the session is
   * ready; 0 opens a channel per command when it runs. Default WARM_CHANNELS.
   */
  warmChannels?: number;
}

/**
 * A check starts two commands at once (the capture and `ip -o link`; an HA node a third, `ip -o addr`), and
 * step 3 may run one more: three warm, plus those running, stays well under OpenSSH's MaxSessions of 10.
 */
export const WARM_CHANNELS = 3;

export interface RemoteResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class ForwardError extends LbcheckError {
  override name = 'ForwardError';
  constructor(
    readonly outcome: 'refused' | 'timeout' | 'prohibited' | 'unreachable',
    detail: string,
  ) {
    super(outcome === 'prohibited' ? 'access' : 'unreachable', detail);
  }
}

interface ExecHandle {
  channel: ClientChannel;
  command: string;
  exit: Promise<ExitStatus>;
}

export class SshSession {
  /** Every command line run on this connection, in order (evidence: "the exact commands run"). */
  readonly commands: string[] = [];
  private closed = false;
  private readonly warm: WarmChannels;

  private constructor(
    private readonly client: Client,
    private readonly socket: Socket,
    readonly target: string,
    readonly hostKeyFingerprint: string,
    /** Privileged commands go through `sudo -n` (the LB entry says `sudo: true`). */
    readonly sudo = false,
    warmChannels = WARM_CHANNELS,
  ) {
    client.on('close', () => {
      this.closed = true;
      this.warm.close();
    });
    client.on('error', () => undefined); // after 'ready', failures surface on the channel calls
    this.warm = new WarmChannels((command) => this.openExec(command), warmChannels);
  }

  get alive(): boolean {
    return !this.closed;
  }

  static open(opts: SshOptions): Promise<SshSession> {
    const target = `${opts.user}@${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
    const client = new SshClient();
    // Our own socket, handed to ssh2, so close() can finish it: ssh2's
    // destroy() does nothing once the connection has been ended.
    const socket = opts.preconnected?.socket ?? new Socket();
    const early = opts.preconnected?.error();
    if (early || (opts.preconnected && socket.destroyed))
      return Promise.reject(new SshUnreachableError(target, early?.code ?? early?.message ?? 'connection closed'));
    // Many small request/response packets, the handshake's too: with Nagle, the request that follows NEWKEYS
    // waited for the LB's delayed ACK of it (40 ms on Linux) before it left.
    socket.setNoDelay(true);
    let verdict: HostKeyVerdict | undefined;
    return new Promise((resolve, reject) => {
      client.once('ready', () => {
        if (verdict === undefined || !verdict.ok) return reject(new Error('SSH ready without host key verification'));
        const session = new SshSession(client, socket, target, verdict.seen, opts.sudo === true, opts.warmChannels);
        // Their login shells start now, while the caller still prepares its first command.
        session.prewarm();
        resolve(session);
      });
      client.once('error', (err: Error & { level?: string; code?: string }) => {
        client.end();
        if (verdict && !verdict.ok) {
          if (verdict.reason === 'unknown') return reject(new HostKeyUnknownError(target, verdict.seen));
          return reject(
            new HostKeyMismatchError(
              target,
              verdict.seen,
              verdict.reason === 'revoked' ? ['(a key not marked @revoked)'] : opts.pins.fingerprints,
            ),
          );
        }
        if (err.level === 'client-authentication') return reject(new SshAuthError(target, err.message, { cause: err }));
        if (err.level === 'client-timeout')
          return reject(new SshUnreachableError(target, `no SSH handshake within ${opts.readyTimeoutMs ?? 5000} ms`));
        reject(new SshUnreachableError(target, err.code ?? err.message, { cause: err }));
      });
      if (!opts.preconnected) socket.connect({ host: opts.host, port: opts.port });
      client.connect({
        sock: socket,
        host: opts.host,
        port: opts.port,
        username: opts.user,
        privateKey: opts.privateKey,
        // Straight to the key: ssh2 would first try auth "none", one more round trip that no LB accepts.
        authHandler: ['publickey'],
        readyTimeout: opts.readyTimeoutMs ?? 5000,
        keepaliveInterval: opts.keepaliveMs ?? 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(key, opts.pins);
          return verdict.ok;
        },
      });
    });
  }

  /** Starts argv as a remote command (quoted here, and only here). */
  exec(argv: readonly string[]): Promise<ExecHandle> {
    return this.execLine(commandLine(argv));
  }

  /** Runs a line built by the caller from commandLine() pieces (e.g. with `;` between commands). */
  async execLine(command: string): Promise<ExecHandle> {
    this.commands.push(command);
    const warm = await this.warm.take(command);
    if (warm) {
      // As with an exec, the command is under way once the LB has answered since it was sent: a connection that
      // stalled (a black-holed segment being resent) holds the caller here, not in its own timeouts.
      await this.roundTrip();
      return { ...warm, command };
    }
    try {
      return { ...(await this.openExec(command)), command };
    } catch (err) {
      // The server's session limit, reached while warm channels wait (a line no warm channel can take): their
      // slots go to this command.
      if (this.warm.size === 0) throw err;
      await this.warm.release();
      return { ...(await this.openExec(command)), command };
    }
  }

  /**
   * Resolves at the LB's next answer on this connection (or when the connection ends): a request it answers and
   * ignores, to cancel a port forward that does not exist. Answered in order, after everything sent before it.
   */
  private roundTrip(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.client.unforwardIn('127.0.0.1', 0, () => resolve());
      } catch {
        resolve(); // not connected: the command's channel reports that itself
      }
    });
  }

  /** Opens up to the session's number of warm channels (a pooled session calls it as each check begins). */
  prewarm(): void {
    if (!this.closed) this.warm.topUp();
  }

  /**
   * Resolves once the warm channels are open: their shells are starting on the LB. Until then the process
   * should not block its event loop (loading modules, say): each channel's exec request goes out only when
   * the LB's confirmation of the channel is read.
   */
  warmed(): Promise<void> {
    return this.warm.opened();
  }

  /** Idle warm channels, opened or opening. */
  get warmChannels(): number {
    return this.warm.size;
  }

  /** An exec channel running command; its closing frees a slot on the server, so warming may go on. */
  private openExec(command: string): Promise<OpenedExec> {
    return new Promise((resolve, reject) => {
      // This session was connected (open() resolved): a connection gone now was lost, not never reached.
      const unreachable = (err: Error): SshUnreachableError =>
        this.closed || err.message === 'Not connected'
          ? new SshConnectionLostError(this.target, `cannot open a channel: ${err.message}`, { cause: err })
          : new SshUnreachableError(this.target, `cannot open a channel: ${err.message}`, { cause: err });
      // ssh2 throws at once ("Not connected") when the connection is already gone: the same typed error.
      try {
        this.execOn(command, resolve, (err) => reject(unreachable(err)));
      } catch (err) {
        reject(unreachable(err instanceof Error ? err : new Error(String(err))));
      }
    });
  }

  /** Opens the exec channel; resolve gets it with its exit, reject the server's refusal. */
  private execOn(command: string, resolve: (e: OpenedExec) => void, reject: (err: Error) => void): void {
    this.client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const exit = new Promise<ExitStatus>((done) => {
        let code: number | null = null;
        let signal: string | null = null;
        channel.on('exit', (c: number | null, s?: string) => {
          code = c;
          signal = s ?? null;
        });
        channel.on('close', () => {
          this.warm.resume();
          done({ code, signal });
        });
      });
      resolve({ channel, exit });
    });
  }

  /** Runs argv to completion, bounded by timeoutMs. */
  async run(argv: readonly string[], timeoutMs = 10_000): Promise<RemoteResult> {
    const handle = await this.exec(argv);
    let stdout = '';
    let stderr = '';
    handle.channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    handle.channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      handle.channel.close();
    }, timeoutMs);
    const { code, signal } = await handle.exit;
    clearTimeout(timer);
    return { code, signal, stdout, stderr, timedOut };
  }

  /** A direct-tcpip channel: the LB itself connects to host:port. */
  forwardOut(host: string, port: number, timeoutMs: number): Promise<ClientChannel> {
    this.commands.push(`# direct-tcpip channel to ${host.includes(':') ? `[${host}]` : host}:${port}`);
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ForwardError('timeout', `no answer from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
        if (settled) {
          channel?.close();
          return;
        }
        settled = true;
        clearTimeout(timer);
        if (!err) return resolve(channel);
        const reason = (err as Error & { reason?: number }).reason;
        const msg = err.message;
        if (reason === 1 || /prohibited/i.test(msg)) return reject(new ForwardError('prohibited', msg));
        if (/refused/i.test(msg)) return reject(new ForwardError('refused', msg));
        if (/timed out/i.test(msg)) return reject(new ForwardError('timeout', msg));
        reject(new ForwardError('unreachable', msg));
      });
    });
  }

  /**
   * Ends the connection politely (SSH disconnect, then FIN) without waiting
   * for the LB's own FIN: once ours is with the kernel ('finish') the kernel
   * delivers it, and the socket is released. Waiting kept a one-shot process
   * alive for minutes when the LB stopped acknowledging (a stalled path, an
   * MTU black hole: TCP retransmits for ~2 min), and kept ssh2's keepalive
   * timer running. If even the hand-off to the kernel stalls, it gives up
   * after graceMs.
   */
  close(graceMs = 1000): void {
    this.closed = true;
    this.warm.close();
    this.client.end();
    if (this.socket.destroyed) return;
    if (this.socket.writableFinished) this.socket.destroy();
    else this.socket.once('finish', () => this.socket.destroy());
    const force = setTimeout(() => this.socket.destroy(), graceMs);
    force.unref();
    this.socket.once('close', () => clearTimeout(force));
  }
}
