// The client side of step 1: a TCP connect from this machine (the vantage
// point) with a source port we chose, so the LB capture can be matched to it.
import { hostPort } from '../model/endpoint-text.js';
import { connect, createServer, type Socket } from 'node:net';

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable';

export interface ConnectResult {
  outcome: ConnectOutcome;
  /** errno name for refused/unreachable, e.g. ECONNREFUSED, EHOSTUNREACH. */
  errno?: string;
  ms: number;
  localAddress?: string;
  localPort: number;
  /** The open socket when connected; the caller owns it. */
  socket?: Socket;
}

const EPHEMERAL_LOW = 33000;
const EPHEMERAL_SPAN = 27000;

function pickPort(): number {
  return EPHEMERAL_LOW + Math.floor(Math.random() * EPHEMERAL_SPAN);
}

function attempt(
  host: string,
  port: number,
  localPort: number,
  timeoutMs: number,
  localAddress: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ConnectResult | 'port-in-use'> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port, localPort, ...(localAddress ? { localAddress } : {}) });
    const ms = (): number => Math.round(performance.now() - started);
    const giveUp = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome: 'timeout', ms: ms(), localPort });
    };
    const timer = setTimeout(giveUp, timeoutMs);
    // A cancelled check: the connect attempt (the kernel's SYN retries) ends now, not at its timeout.
    signal?.addEventListener('abort', giveUp, { once: true });
    socket.once('close', () => signal?.removeEventListener('abort', giveUp));
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ outcome: 'connected', ms: ms(), localPort, localAddress: socket.localAddress ?? '', socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      if (err.code === 'EADDRINUSE') return resolve('port-in-use');
      const outcome: ConnectOutcome =
        err.code === 'ECONNREFUSED' ? 'refused' : err.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable';
      resolve({ outcome, errno: err.code ?? err.message, ms: ms(), localPort });
    });
  });
}

export async function tcpConnect(
  host: string,
  port: number,
  timeoutMs: number,
  localPort?: number,
  /** The vantage point's own address to probe from (one host can be several vantage points); default: the route's. */
  localAddress?: string,
  signal?: AbortSignal,
): Promise<ConnectResult> {
  for (let i = 0; i < 8; i++) {
    const result = await attempt(host, port, localPort ?? pickPort(), timeoutMs, localAddress, signal);
    if (result !== 'port-in-use') return result;
    if (localPort !== undefined) break;
  }
  throw new Error(`no free local port to probe ${hostPort(host, port)} from`);
}

/**
 * A source port for the probe, known before it connects, so the LB capture
 * can be filtered on the probe's own flow. The kernel picks a free one; the
 * listener is closed at once and the port is then used as the source port.
 */
export function reserveLocalPort(localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, localAddress, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
