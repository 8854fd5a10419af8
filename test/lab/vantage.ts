// A second vantage point on the lab's client side: one more address of the
// lab's own client subnet on the test process's link (the test process is the
// client), so two probes from this one host travel as two networks would, and
// a router rule can break the path from one of them only.
import { addRule, deleteRule, rule } from './iptables.js';
import type { Undo } from './faults.js';
import type { Lab, VipKind } from './lab.js';
import { run, runOk } from './run-command.js';

/** The second vantage's address (the client subnet's .11), added to the test's link once. */
export async function addVantage(lab: Lab): Promise<string> {
  const address = lab.addr.client.replace(/\.\d+$/, '.11');
  const present = await run(['ip', '-o', 'addr', 'show', 'dev', lab.rootLink, 'to', `${address}/32`]);
  // The link and its addresses go with the lab's teardown (the link is deleted).
  if (!present.stdout.includes(address)) await runOk(['ip', 'addr', 'add', `${address}/24`, 'dev', lab.rootLink]);
  return address;
}

/** A firewall on the router drops traffic to the VIP from one vantage address only. */
export function dropFromVantage(lab: Lab, from: string, kind: VipKind): Promise<Undo> {
  const v = lab.vips[kind];
  const r = rule('filter', 'FORWARD', [
    '-s',
    `${from}/32`,
    '-d',
    `${v.address}/32`,
    '-p',
    'tcp',
    '--dport',
    String(v.port),
    '-j',
    'DROP',
  ]);
  return lab.faults.register(
    `drop-from-vantage:${from}:${kind}`,
    () => addRule(lab.ns.router, r, 'insert'),
    () => deleteRule(lab.ns.router, r),
  );
}
