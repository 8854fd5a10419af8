// Runs `lbcheck run <args>` in this process through the command's own entry
// point, without the CLI's final process.exit, and reports on stderr what
// would still keep the process alive once the check has returned:
//   leftover [...]   every active resource (process.getActiveResourcesInfo())
//                    except this process's own stdio and sockets already
//                    destroyed whose close callback is still due;
//   detail [...]     what the leftovers are, to debug a failure.
// The process then ends by itself or not: the test watches that too.
import { Socket } from 'node:net';
import { runMain } from '../../src/cli/run-entry.js';

interface Handle {
  constructor: { name: string };
}
// node's own list of live handles (undocumented, but the only way to tell a
// closing socket from an open one); typed here at the boundary.
const activeHandles = (): Handle[] => (process as unknown as { _getActiveHandles(): Handle[] })._getActiveHandles();

const code = await runMain(process.argv.slice(2));
// Two turns of the loop: handles closed during the last one finish closing.
for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));

const stdio = new Set<unknown>([process.stdin, process.stdout, process.stderr]);
const ending = (h: Handle): boolean => h instanceof Socket && !stdio.has(h) && h.destroyed;
const leftover = process.getActiveResourcesInfo();
const drop = (type: string): void => {
  const i = leftover.indexOf(type);
  if (i >= 0) leftover.splice(i, 1);
};
const detail: string[] = [];
for (const h of activeHandles()) {
  if (stdio.has(h)) drop('PipeWrap');
  else if (ending(h)) drop('TCPSocketWrap');
  else detail.push(h instanceof Socket ? `Socket ${h.readyState} local port ${h.localPort}` : h.constructor.name);
}
const tty = leftover.filter((r) => r !== 'TTYWrap'); // a terminal's stdio, when run by hand
process.stderr.write(`\nexit-code ${code}\nleftover ${JSON.stringify(tty)}\ndetail ${JSON.stringify(detail)}\n`);
