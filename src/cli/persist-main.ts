// The kept process's entry (started detached by persist-client.ts): node
// persist-main.js <socket> <idle seconds>. It exits when its idle time is up,
// on SIGTERM or SIGINT, or at once when another kept process already serves
// the socket.
import { PersistServer } from './persist-server.js';

async function main(): Promise<void> {
  const [socket, seconds] = process.argv.slice(2);
  const idle = Number(seconds);
  if (!socket || !Number.isInteger(idle) || idle < 1 || idle > 3600) {
    process.stderr.write('usage: persist-main.js <socket> <idle seconds 1-3600>\n');
    process.exit(2);
  }
  const server = new PersistServer(socket, idle);
  const stop = (): void => void server.end().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const finished = server.finished;
  if (!(await server.listen())) process.exit(0);
  await finished;
  process.exit(0);
}

void main().catch(() => process.exit(1));
