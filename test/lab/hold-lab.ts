// Starts a lab, prints what it made as one JSON line, and waits to be killed.
// The lab's tests kill this process with SIGKILL to prove nothing survives it.
import { startLab } from './lab.js';

const lab = await startLab({ serverCount: 2 });
console.log(
  JSON.stringify({ runId: lab.runId, slot: lab.slot, pids: lab.pids(), namespaces: [lab.ns.router, lab.ns.lb] }),
);
setInterval(() => undefined, 60_000);
