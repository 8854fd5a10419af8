// `npm run demo` (as root): builds a small lab in network namespaces (an
// HAProxy http VIP, an HAProxy tcp VIP, an nginx VIP, an L4 DNAT VIP, two
// servers, all in 198.18.0.0/15), writes an inventory and policy naming only
// the lab's own addresses, and starts the console bot on it, with prompt
// commands that switch the lab's faults on and off so the reader sees the
// verdicts change. Ctrl-C or quit tears everything down; a demo killed
// outright is reaped by the next lab start (namespaces, links, temp files).
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { LabPreflightError } from '../lab/preflight.js';
import { startLab, type Lab } from '../lab/lab.js';
import { startStandby } from '../lab/standby.js';
import { runDemoBot } from './demo-bot.js';
import { FaultSwitchboard } from './demo-faults.js';
import { DEMO_VIPS, demoInventoryYaml, type DemoLab, type DemoVipName } from './demo-inventory.js';

const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

function describeLab(lab: Lab): DemoLab {
  return {
    vips: (Object.keys(DEMO_VIPS) as DemoVipName[]).map((name) => {
      const spec = DEMO_VIPS[name];
      const v = lab.vips[spec.kind];
      return { name, address: v.address, port: v.port, protocol: spec.protocol, what: spec.what };
    }),
    servers: lab.servers.map((s) => ({ name: s.name, address: s.address, port: s.port })),
    ssh: lab.sshInfo,
    ...(lab.standby ? { standby: lab.standby.ssh } : {}),
  };
}

async function main(): Promise<number> {
  out('lbcheck demo: building a lab in network namespaces (about 2 s)…');
  let lab: Lab;
  try {
    lab = await startLab({ serverCount: 2 });
    await startStandby(lab);
  } catch (err) {
    if (err instanceof LabPreflightError) {
      console.error(`${err.message}\nThe demo installs what it needs when run as root: sudo npm run demo`);
      return 1;
    }
    throw err;
  }
  // Ctrl-C: the lab's own handler tears it down; this one says so and ends with the usual status.
  process.on('SIGINT', () => {
    out('\nCtrl-C: tearing the lab down.');
    lab.teardown();
    process.exit(130);
  });
  try {
    const user = userInfo().username;
    const demo = describeLab(lab);
    const inventoryFile = join(lab.dir, 'demo-inventory.yaml');
    writeFileSync(inventoryFile, demoInventoryYaml(demo, user));
    const inventory = loadInventory(inventoryFile);
    // LBCHECK_DEMO_DIR: where the demo keeps its evidence and logs (the tests use a scratch folder).
    const dataDir = resolve(process.env.LBCHECK_DEMO_DIR ?? join('.lbcheck', 'demo'));
    out(`lab ${lab.runId}: namespaces lbl-${lab.runId}-*, addresses ${lab.addr.block} (routed into the lab only)`);
    out(
      `LB ${demo.ssh.host} (sshd, tcpdump, HAProxy, nginx, iptables) · servers ${demo.servers.map((s) => `${s.name} ${s.address}:${s.port}`).join(', ')}`,
    );
    if (demo.standby) out(`HA standby ${demo.standby.host} (sshd, HAProxy): web-http is served by the pair`);
    out('VIPs:');
    for (const v of demo.vips) out(`  ${v.name.padEnd(10)} ${`${v.address}:${v.port}`.padEnd(18)} ${v.what}`);
    out(`inventory and policy: ${inventoryFile} (only the lab's addresses may be checked)`);
    out(`evidence, audit log and bot log: ${dataDir}`);
    out();
    out('Try:  /lbcheck web-http           check a VIP (every step, then the diagnosis)');
    out('      fault drop-before-lb web-http   switch a lab fault on (again: off), then check again');
    out(
      '      alert web-http              an alert fires for it: its check starts by itself (alert web-http resolved)',
    );
    out('      faults help                 every fault · faults: what is on · /lbcheck help');
    out('quit, Ctrl-D or Ctrl-C tears the lab down.');
    await runDemoBot({
      input: process.stdin,
      output: process.stdout,
      inventory,
      faults: new FaultSwitchboard(lab),
      user,
      dataDir,
      ...(process.stdin.isTTY ? { prompt: 'lbcheck> ' } : {}),
    });
    return 0;
  } finally {
    out('tearing the lab down.');
    lab.teardown();
  }
}

process.exitCode = await main();
// The worker's SSH sessions and the console are closed; anything a probe left is not worth waiting for.
process.exit();
