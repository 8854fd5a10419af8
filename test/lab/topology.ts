// Builds the lab's namespaces and links:
//
//   test process (root ns, the client) --veth-- router --veth-- lb (VIPs on lo, sshd, proxies)
//                                                 |               |
//                                                 +---- sw (bridge: server subnet) ---- s1 s2 s3
//
// The servers' default gateway is the router, not the LB, as in many real
// networks: that is what makes a DNAT without SNAT return asymmetrically.
import type { LabAddresses } from './addresses.js';
import { runOk } from './run-command.js';

export interface LabNamespaces {
  router: string;
  lb: string;
  /** The HA standby LB node; built only when a test asks for it (standby.ts), torn down with the rest. */
  standby: string;
  sw: string;
  servers: string[];
}

export function namespaceNames(runId: string, serverCount: number): LabNamespaces {
  const ns = (role: string): string => `lbl-${runId}-${role}`;
  return {
    router: ns('router'),
    lb: ns('lb'),
    standby: ns('lb2'),
    sw: ns('sw'),
    servers: Array.from({ length: serverCount }, (_, i) => ns(`s${i + 1}`)),
  };
}

export function allNamespaces(ns: LabNamespaces): string[] {
  return [ns.router, ns.lb, ns.standby, ns.sw, ...ns.servers];
}

const ip = (ns: string, ...args: string[]): string[] => ['ip', '-n', ns, ...args];
const sysctl = (ns: string, key: string, value: string): string[] => [
  'ip',
  'netns',
  'exec',
  ns,
  'sysctl',
  '-q',
  '-w',
  `${key}=${value}`,
];

/** The command list, in dependency order; pure so it can be read and tested. */
export function topologyCommands(ns: LabNamespaces, a: LabAddresses, rootLink: string): string[][] {
  const cmds: string[][] = [];
  for (const name of allNamespaces(ns)) {
    cmds.push(['ip', 'netns', 'add', name]);
    cmds.push(sysctl(name, 'net.ipv6.conf.all.disable_ipv6', '1'));
    cmds.push(sysctl(name, 'net.ipv6.conf.default.disable_ipv6', '1'));
    cmds.push(ip(name, 'link', 'set', 'lo', 'up'));
  }
  // client subnet: root namespace <-> router
  cmds.push(['ip', 'link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.router]);
  cmds.push(['sysctl', '-q', '-w', `net.ipv6.conf.${rootLink}.disable_ipv6=1`]);
  cmds.push(['ip', 'addr', 'add', `${a.client}/24`, 'dev', rootLink]);
  cmds.push(['ip', 'link', 'set', rootLink, 'up']);
  cmds.push(ip(ns.router, 'addr', 'add', `${a.routerClientSide}/24`, 'dev', 'eth0'));
  cmds.push(ip(ns.router, 'link', 'set', 'eth0', 'up'));
  // Only this run's block goes to the lab; nothing else in the root namespace changes.
  cmds.push(['ip', 'route', 'add', a.block, 'via', a.routerClientSide, 'dev', rootLink]);

  // transit: router <-> lb
  cmds.push(ip(ns.router, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.lb));
  cmds.push(ip(ns.router, 'addr', 'add', `${a.routerTransit}/24`, 'dev', 'eth1'));
  cmds.push(ip(ns.router, 'link', 'set', 'eth1', 'up'));
  cmds.push(ip(ns.lb, 'addr', 'add', `${a.lbTransit}/24`, 'dev', 'eth0'));
  cmds.push(ip(ns.lb, 'link', 'set', 'eth0', 'up'));

  // server subnet: a bridge in sw, with lb, router and every server plugged in
  cmds.push(ip(ns.sw, 'link', 'add', 'br0', 'type', 'bridge'));
  cmds.push(ip(ns.sw, 'link', 'set', 'br0', 'up'));
  const plug = (host: string, hostIf: string, port: string, address: string): void => {
    cmds.push(ip(host, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', port, 'netns', ns.sw));
    cmds.push(ip(ns.sw, 'link', 'set', port, 'master', 'br0'));
    cmds.push(ip(ns.sw, 'link', 'set', port, 'up'));
    cmds.push(ip(host, 'addr', 'add', `${address}/24`, 'dev', hostIf));
    cmds.push(ip(host, 'link', 'set', hostIf, 'up'));
  };
  plug(ns.lb, 'eth1', 'p-lb', a.lbServerSide);
  plug(ns.router, 'eth2', 'p-router', a.routerServerSide);
  ns.servers.forEach((server, i) => {
    const address = a.servers[i];
    if (address === undefined) throw new Error(`no address for server ${i + 1}`);
    plug(server, 'eth0', `p-s${i + 1}`, address);
    cmds.push(ip(server, 'route', 'add', 'default', 'via', a.routerServerSide));
  });

  // routing
  cmds.push(sysctl(ns.router, 'net.ipv4.ip_forward', '1'));
  cmds.push(ip(ns.router, 'route', 'add', a.vipSubnet, 'via', a.lbTransit));
  cmds.push(sysctl(ns.lb, 'net.ipv4.ip_forward', '1'));
  cmds.push(ip(ns.lb, 'route', 'add', 'default', 'via', a.routerTransit));
  for (const vip of Object.values(a.vips)) cmds.push(ip(ns.lb, 'addr', 'add', `${vip}/32`, 'dev', 'lo'));
  return cmds;
}

export async function buildTopology(ns: LabNamespaces, a: LabAddresses, rootLink: string): Promise<void> {
  for (const cmd of topologyCommands(ns, a, rootLink)) await runOk(cmd);
}
