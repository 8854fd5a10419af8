// Records the real LB captures the ladder unit tests read (test/evidence/fixtures):
// `tcpdump -i any` on the lab's LB (LINUX_SLL2, as lbcheck captures) while a
// probe meets a healthy L4 VIP, an L4 VIP whose servers never answer the LB,
// and an L7 VIP with every server down (HAProxy's 503). Run as root, rarely:
//   npm run build && node dist/test/evidence/record-fixtures.js
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, type Lab } from '../lab/lab.js';
import { captureToFile, httpGet, tcpConnect } from '../lab/lab-probes.js';

const out = fileURLToPath(new URL('../../../test/evidence/fixtures/', import.meta.url));

async function record(lab: Lab, name: string, probe: () => Promise<unknown>): Promise<void> {
  const file = join(out, `${name}.pcap`);
  const cap = await captureToFile(lab, 'lb', file, ['-i', 'any', '-s', '262', 'tcp and not port 22']);
  await probe().catch(() => undefined);
  await cap.stop();
  console.log(`wrote ${file}`);
}

const lab = await startLab({ serverCount: 2 });
try {
  writeFileSync(join(out, 'lb-ip-link.txt'), (await lab.exec('lb', ['ip', '-o', 'link', 'show'])).stdout);
  await record(lab, 'dnat-healthy', () => httpGet(lab.vips.dnat.address, lab.vips.dnat.port));
  const undo = [await lab.faults.serverBlocksLb('s1', 'drop'), await lab.faults.serverBlocksLb('s2', 'drop')];
  await record(lab, 'dnat-server-silent', () => tcpConnect(lab.vips.dnat.address, lab.vips.dnat.port, 3500));
  for (const u of undo.reverse()) await u();
  await lab.faults.allServersDown();
  await record(lab, 'haproxy-503', () => httpGet(lab.vips['haproxy-http'].address, lab.vips['haproxy-http'].port));
  await lab.faults.clear();
} finally {
  lab.teardown();
}
