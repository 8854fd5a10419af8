// A stand-in for a worker process: starts the vantage-point capture and prints
// "capturing" once tcpdump listens, then waits to be killed. Used by
// local-capture-kill.test.ts with a real kill -9.
import { LocalCapture } from '../../src/capture/local-capture.js';

const capture = await LocalCapture.start(process.argv[2] ?? 'tcp port 9 and host 127.0.0.1', 120);
if ('unavailable' in capture) {
  console.log(`unavailable: ${capture.unavailable}`);
  process.exit(2);
}
console.log('capturing');
setInterval(() => undefined, 60_000);
