// The demo's inventory and access policy, written for one lab run. Every
// address in it is one the lab created: its VIPs, servers and the LB's SSH
// address. The policy's ranges are single /32s, never the lab's block or the
// benchmarking /15: an ad-hoc target typed at the demo prompt that the lab
// did not create is refused, so the demo never sends to an address that would
// leave through this machine's default route.
import type { LabSsh } from '../lab/sshd.js';

export interface DemoLab {
  vips: { name: string; address: string; port: number; protocol: 'http' | 'tcp'; what: string }[];
  servers: { name: string; address: string; port: number }[];
  ssh: LabSsh;
  /** The HA standby (test/lab/standby.ts): with it, web-http is served by the pair lab-lb, lab-lb2. */
  standby?: LabSsh;
}

/** The lab's VIPs under the names the reader types. */
export const DEMO_VIPS = {
  'web-http': { kind: 'haproxy-http', protocol: 'http', what: 'HAProxy, mode http (L7)' },
  'web-tcp': { kind: 'haproxy-tcp', protocol: 'tcp', what: 'HAProxy, mode tcp (L7 TCP proxy)' },
  'web-nginx': { kind: 'nginx', protocol: 'http', what: 'nginx reverse proxy (L7)' },
  'web-l4': { kind: 'dnat', protocol: 'http', what: 'iptables DNAT + SNAT forwarder (L4)' },
} as const;

export type DemoVipName = keyof typeof DEMO_VIPS;

/** Every address the inventory may name (the test checks the YAML against it). */
export function demoAddresses(lab: DemoLab): Set<string> {
  return new Set([
    lab.ssh.host,
    ...(lab.standby ? [lab.standby.host] : []),
    ...lab.vips.map((v) => v.address),
    ...lab.servers.map((s) => s.address),
  ]);
}

export function demoInventoryYaml(lab: DemoLab, consoleUser: string): string {
  const members = lab.servers.map((s) => `${s.address}:${s.port}`).join(', ');
  const only = [...lab.vips.map((v) => v.address), ...lab.servers.map((s) => s.address)].map((a) => `${a}/32`);
  return [
    '# lbcheck demo inventory: written for this lab run, deleted with it.',
    'loadBalancers:',
    '  lab-lb:',
    `    ssh: ssh://${lab.ssh.user}@${lab.ssh.host}:${lab.ssh.port}`,
    `    identity: ${lab.ssh.identityFile}`,
    `    hostKey: ${lab.ssh.hostKeyFingerprint}`,
    ...(lab.standby
      ? [
          '  lab-lb2:                # the HA standby of lab-lb (web-http only)',
          `    ssh: ssh://${lab.standby.user}@${lab.standby.host}:${lab.standby.port}`,
          `    identity: ${lab.standby.identityFile}`,
          `    hostKey: ${lab.standby.hostKeyFingerprint}`,
        ]
      : []),
    'vips:',
    ...lab.vips.flatMap((v) => [
      `  ${v.name}:                # ${v.what}`,
      `    address: ${v.address}`,
      `    port: ${v.port}`,
      `    protocol: ${v.protocol}`,
      `    lb: ${lab.standby && v.name === 'web-http' ? '[lab-lb, lab-lb2]' : 'lab-lb'}`,
      `    members: [${members}]`,
    ]),
    'policy:',
    '  contact: "This is the lbcheck demo: only the lab\'s own addresses may be checked."',
    '  rules:',
    '    - name: demo',
    `      users: ["console:${consoleUser}"]`,
    `      targets: [${lab.vips.map((v) => v.name).join(', ')}]`,
    '      # Ad-hoc ip:port targets and --members: only addresses this lab created.',
    `      cidrs: [${only.join(', ')}]`,
    "    - name: demo-alerts      # the demo's `alert <vip>` posts as Alertmanager would",
    '      users: ["alert:alertmanager"]',
    '      channels: ["console:console"]',
    `      targets: [${lab.vips.map((v) => v.name).join(', ')}]`,
    '  limits: { perUserPerMinute: 60, perChannelPerMinute: 120, inFlightPerTarget: 3 }',
    'alerts:',
    '  routes:',
    '    - channel: console:console',
    '  checkEverySeconds: 60',
    '',
  ].join('\n');
}
