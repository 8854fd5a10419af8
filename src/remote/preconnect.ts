// Opens the TCP connection to an LB's sshd before the SSH library is even
// loaded. The server's expensive part (sshd forks and re-executes itself per
// connection before it sends its banner) then overlaps with this process's
// module loading; a one-shot `lbcheck run` saves that much wall time. Kept
// free of ssh2 imports on purpose.
import { Socket } from 'node:net';

export interface Preconnected {
  socket: Socket;
  /** The connection's error if it failed before anyone else listened (e.g. ECONNREFUSED). */
  error(): (Error & { code?: string }) | undefined;
}

export function preconnect(host: string, port: number): Preconnected {
  const socket = new Socket();
  let failure: (Error & { code?: string }) | undefined;
  // Without a listener an early 'error' would crash the process; the SSH layer reads it from here.
  socket.on('error', (err) => (failure ??= err));
  socket.connect({ host, port });
  return { socket, error: () => failure };
}
