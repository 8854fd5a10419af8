// The HA pair: a standby LB node (namespace lbl-<run>-lb2) beside the lab's LB,
// with its own sshd and the same HAProxy http VIP configured (bound with
// ip_nonlocal_bind, as keepalived setups do, so it serves the VIP the moment
// it holds the address). The router sends the VIP subnet to the active node;
// failover moves the address and the router's route, as a routed HA pair (or
// keepalived plus gratuitous ARP) does.
//
//   router eth1 --- lb  (eth0 transit .2/24, holds the VIPs on lo)
//   router eth3 --- lb2 (eth0 transit .130/25, holds nothing until a failover)
//   lb2 eth1 --- sw bridge (server subnet .2)
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyConfig, type PoolMember } from './lb-configs.js';
import type { Lab } from './lab.js';
import { startInNamespace } from './processes.js';
import { inNs, runOk } from './run-command.js';
import { prepareSshd, type LabSsh } from './sshd.js';
import type { Undo } from './faults.js';

export interface LabStandby {
  /** Where the standby's sshd listens (its transit address). */
  transit: string;
  /** The router's side of the standby link. */
  routerSide: string;
  serverSide: string;
  ssh: LabSsh;
  /** The standby HAProxy's stats socket (its own view of the pool). */
  haproxySocket: string;
}

/** The same /24 as `address`, host part replaced. */
const onSubnet = (address: string, host: number): string => address.replace(/\.\d+$/, `.${host}`);

function standbyCommands(lab: Lab, s: Pick<LabStandby, 'transit' | 'routerSide' | 'serverSide'>): string[][] {
  const { router, standby, sw } = lab.ns;
  const ip = (ns: string, ...args: string[]): string[] => ['ip', '-n', ns, ...args];
  const sysctl = (ns: string, kv: string): string[] => inNs(ns, ['sysctl', '-q', '-w', kv]);
  return [
    // The namespace itself exists already (topology.ts makes every lab namespace, so teardown and reaping know it).
    // A /25 inside the transit /24: the longer prefix wins on the router, so the active node keeps .2.
    ip(router, 'link', 'add', 'eth3', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', standby),
    ip(router, 'addr', 'add', `${s.routerSide}/25`, 'dev', 'eth3'),
    ip(router, 'link', 'set', 'eth3', 'up'),
    ip(standby, 'addr', 'add', `${s.transit}/25`, 'dev', 'eth0'),
    ip(standby, 'link', 'set', 'eth0', 'up'),
    ip(standby, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'p-lb2', 'netns', sw),
    ip(sw, 'link', 'set', 'p-lb2', 'master', 'br0'),
    ip(sw, 'link', 'set', 'p-lb2', 'up'),
    ip(standby, 'addr', 'add', `${s.serverSide}/24`, 'dev', 'eth1'),
    ip(standby, 'link', 'set', 'eth1', 'up'),
    ip(standby, 'route', 'add', 'default', 'via', s.routerSide),
    sysctl(standby, 'net.ipv4.ip_forward=1'),
    // HA nodes bind VIPs they do not hold yet (and keep serving them when the address moves back).
    sysctl(standby, 'net.ipv4.ip_nonlocal_bind=1'),
    sysctl(lab.ns.lb, 'net.ipv4.ip_nonlocal_bind=1'),
  ];
}

async function waitForFile(file: string, alive: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!existsSync(file)) {
    if (!alive() || Date.now() > deadline) throw new Error(`${what} did not create ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Builds and starts the standby node (about half a second); idempotent. */
export async function startStandby(lab: Lab): Promise<LabStandby> {
  if (lab.standby) return lab.standby;
  const addresses = {
    transit: onSubnet(lab.addr.routerTransit, 130),
    routerSide: onSubnet(lab.addr.routerTransit, 129),
    serverSide: onSubnet(lab.addr.lbServerSide, 2),
  };
  for (const cmd of standbyCommands(lab, addresses)) await runOk(cmd);
  const dir = join(lab.dir, 'standby');
  mkdirSync(dir, { recursive: true });
  const sshd = await prepareSshd(lab.ns.standby, dir, addresses.transit);
  await lab.service('sshd-lb2', () => sshd.start());
  const v = lab.vips['haproxy-http'];
  const members: PoolMember[] = lab.servers.map(({ address, port }) => ({ address, port }));
  const socket = join(dir, 'haproxy-http.sock');
  const cfg = join(dir, 'haproxy-http.cfg');
  writeFileSync(cfg, haproxyConfig('http', v.address, v.port, members, socket));
  await lab.service('haproxy-http-lb2', async () => {
    rmSync(socket, { force: true });
    const proc = startInNamespace(lab.ns.standby, 'haproxy-http-lb2', ['/usr/sbin/haproxy', '-db', '-f', cfg]);
    // It cannot be connected to until it holds the VIP: its stats socket says it is up.
    await waitForFile(socket, () => proc.running, `haproxy on the standby: ${proc.stderr}`);
    return proc;
  });
  lab.standby = { ...addresses, ssh: sshd.ssh, haproxySocket: socket };
  return lab.standby;
}

function standbyOf(lab: Lab): LabStandby {
  if (!lab.standby) throw new Error('the lab standby is not started (startStandby)');
  return lab.standby;
}

const vipOf = (lab: Lab): string => lab.vips['haproxy-http'].address;
const addVip = (ns: string, vip: string): Promise<string> =>
  runOk(['ip', '-n', ns, 'addr', 'add', `${vip}/32`, 'dev', 'lo']);
const delVip = (ns: string, vip: string): Promise<string> =>
  runOk(['ip', '-n', ns, 'addr', 'del', `${vip}/32`, 'dev', 'lo']);

/** A clean failover of the http VIP: the standby holds it and the router sends it there. */
export function failoverToStandby(lab: Lab): Promise<Undo> {
  const s = standbyOf(lab);
  const vip = vipOf(lab);
  const route = (verb: 'replace' | 'del', ...via: string[]): Promise<string> =>
    runOk(['ip', '-n', lab.ns.router, 'route', verb, `${vip}/32`, ...via]);
  return lab.faults.register(
    'failover-to-standby',
    async () => {
      await delVip(lab.ns.lb, vip);
      await addVip(lab.ns.standby, vip);
      await route('replace', 'via', s.transit);
    },
    async () => {
      await route('del');
      await delVip(lab.ns.standby, vip);
      await addVip(lab.ns.lb, vip);
    },
  );
}

/** Split brain: both nodes hold the http VIP (the router still sends it to the first). */
export function splitBrain(lab: Lab): Promise<Undo> {
  standbyOf(lab);
  const vip = vipOf(lab);
  return lab.faults.register(
    'split-brain',
    () => addVip(lab.ns.standby, vip).then(() => undefined),
    () => delVip(lab.ns.standby, vip).then(() => undefined),
  );
}

/** No node holds the http VIP (the HA manager released it everywhere); the router still routes it to the first. */
export function vipOnNoNode(lab: Lab): Promise<Undo> {
  standbyOf(lab);
  const vip = vipOf(lab);
  return lab.faults.register(
    'vip-on-no-node',
    () => delVip(lab.ns.lb, vip).then(() => undefined),
    () => addVip(lab.ns.lb, vip).then(() => undefined),
  );
}

/** The VIP moved to the standby but the router was never told: traffic still goes to the old node. */
export function staleRouteAfterFailover(lab: Lab): Promise<Undo> {
  standbyOf(lab);
  const vip = vipOf(lab);
  return lab.faults.register(
    'stale-route-after-failover',
    async () => {
      await delVip(lab.ns.lb, vip);
      await addVip(lab.ns.standby, vip);
    },
    async () => {
      await delVip(lab.ns.standby, vip);
      await addVip(lab.ns.lb, vip);
    },
  );
}
