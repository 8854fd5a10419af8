// The faults the demo reader can switch on and off at the prompt, each one a
// call to the lab's own fault switches (test/lab/faults.ts), so the demo
// shows exactly what the tests exercise. `fault <name> [vip|server]` toggles.
import type { Undo } from '../lab/faults.js';
import type { Lab, VipKind } from '../lab/lab.js';
import { failoverToStandby, splitBrain, staleRouteAfterFailover, vipOnNoNode } from '../lab/standby.js';
import { DEMO_VIPS, type DemoVipName } from './demo-inventory.js';

interface FaultSpec {
  name: string;
  arg: 'vip' | 'server' | 'none';
  what: string;
  /** The culprit a check of the affected VIP should name. */
  expect: string;
  apply(lab: Lab, kind: VipKind, server: string): Promise<Undo>;
}

export const DEMO_FAULTS: FaultSpec[] = [
  {
    name: 'drop-before-lb',
    arg: 'vip',
    what: 'a firewall on the router silently drops traffic to the VIP',
    expect: 'path-to-lb',
    apply: (lab, kind) => lab.faults.dropBeforeLb(kind),
  },
  {
    name: 'drop-replies',
    arg: 'vip',
    what: "a firewall on the way back drops the VIP's replies: the LB answers, the client never hears it",
    expect: 'path-to-lb (answer-lost-after-lb: the SYN-ACKs leaving the LB are the evidence)',
    apply: (lab, kind) => lab.faults.dropRepliesFromVip(kind),
  },
  {
    name: 'syn-loss',
    arg: 'vip',
    what: "the router loses every other SYN to the VIP (a flapping link): a check's first SYN is lost, its retry gets through",
    expect: 'path-to-lb (syn-loss-before-lb: the connection is made, 1 s late)',
    apply: (lab, kind) => lab.faults.loseFirstSyn(kind),
  },
  {
    name: 'block-here',
    arg: 'vip',
    what: "this machine's own firewall drops its SYNs to the VIP (its OUTPUT chain): nothing ever leaves",
    expect: 'inconclusive (probe-blocked-here: this host is named, not the network or the LB)',
    apply: (lab, kind) => lab.faults.blockHere(kind, 'drop'),
  },
  {
    name: 'reject-before-lb',
    arg: 'vip',
    what: 'the router rejects traffic to the VIP with ICMP port unreachable',
    expect: 'path-to-lb (naming the router)',
    apply: (lab, kind) => lab.faults.rejectBeforeLb(kind),
  },
  {
    name: 'impostor',
    arg: 'vip',
    what: "the router forges a TCP reset in the VIP's name; the LB never sees the SYN",
    expect: 'impostor',
    apply: (lab, kind) => lab.faults.impostor(kind),
  },
  {
    name: 'vip-down',
    arg: 'vip',
    what: "the VIP's listener on the LB is gone (proxy stopped, or DNAT rules removed)",
    expect: 'lb',
    apply: (lab, kind) => lab.faults.vipNotListening(kind),
  },
  {
    name: 'server-down',
    arg: 'server',
    what: "one real server's service is stopped",
    expect: 'none or servers (a warning for the member; HAProxy takes ~1 s to notice)',
    apply: (lab, _kind, server) => lab.faults.serverDown(server),
  },
  {
    name: 'servers-down',
    arg: 'none',
    what: 'every real server is stopped',
    expect: 'servers',
    apply: (lab) => lab.faults.allServersDown(),
  },
  {
    name: 'server-blocks-lb',
    arg: 'server',
    what: "a server's firewall drops the LB's address only (direct probes still work)",
    expect: 'lb-to-servers once every server blocks the LB',
    apply: (lab, _kind, server) => lab.faults.serverBlocksLb(server, 'drop'),
  },
  {
    name: 'missing-snat',
    arg: 'none',
    what: 'the L4 forwarder stops SNATing: servers reply around the LB',
    expect: 'return-path (check web-l4)',
    apply: (lab) => lab.faults.missingSnat(),
  },
  {
    name: 'servers-hang',
    arg: 'none',
    what: 'every server accepts connections and never answers (a hung application)',
    expect: 'servers (L7TOUT), never lb (check web-nginx; takes the silent timeout)',
    apply: (lab) => lab.faults.serversMisbehave('hang'),
  },
  {
    name: 'servers-500',
    arg: 'none',
    what: 'every server answers HTTP 500',
    expect: 'servers (L7STS), also through nginx which passes the 500 on',
    apply: (lab) => lab.faults.serversMisbehave('error'),
  },
  {
    name: 'mtu-black-hole',
    arg: 'none',
    what: "the router's client-side link gets MTU 1280 and its ICMP fragmentation-needed is filtered",
    expect: 'path-to-lb naming the MTU black hole',
    apply: (lab) => lab.faults.mtuBlackHole(),
  },
  {
    name: 'proxy-protocol',
    arg: 'none',
    what: "HAProxy's http frontend expects the PROXY protocol (accept-proxy)",
    expect: 'lb naming the PROXY protocol (check web-http)',
    apply: (lab) => lab.faults.proxyProtocolExpected(),
  },
  {
    name: 'pool-drift',
    arg: 'none',
    what: "nginx's upstream points at port 9090, the inventory says 8080",
    expect: 'lb naming the endpoints nginx really used (check web-nginx)',
    apply: (lab) => lab.faults.poolDrift(),
  },
  {
    name: 'lb-drops-syn',
    arg: 'vip',
    what: "a host firewall on the LB drops the VIP's SYNs itself",
    expect: 'lb',
    apply: (lab, kind) => lab.faults.lbDropsSyn(kind),
  },
  {
    name: 'busy-lb',
    arg: 'none',
    what: 'hping3 sends 5,000 unrelated SYNs a second to another address on the LB',
    expect: 'no change: healthy VIPs stay none',
    apply: (lab) => lab.faults.backgroundTraffic(5000),
  },
  {
    name: 'ssh-forwarding-off',
    arg: 'none',
    what: "the LB's sshd forbids forwarding: member probes fall back to a remote bash one-liner",
    expect: 'none (the probes say via remote-command)',
    apply: (lab) => lab.faults.sshForwardingDisabled(),
  },
  {
    name: 'failover',
    arg: 'none',
    what: "web-http's VIP moves to the HA standby lab-lb2 (and the router follows)",
    expect: 'none for web-http (step 1 names lab-lb2: the pair has failed over)',
    apply: (lab) => failoverToStandby(lab),
  },
  {
    name: 'split-brain',
    arg: 'none',
    what: "both HA nodes hold web-http's VIP",
    expect: 'lb (split-brain) for web-http',
    apply: (lab) => splitBrain(lab),
  },
  {
    name: 'vip-on-no-node',
    arg: 'none',
    what: "no HA node holds web-http's VIP",
    expect: 'lb (vip-on-no-node) for web-http, never path-to-lb',
    apply: (lab) => vipOnNoNode(lab),
  },
  {
    name: 'stale-route',
    arg: 'none',
    what: "web-http's VIP moves to lab-lb2 but the router still sends it to lab-lb",
    expect: 'lb (vip-on-wrong-node) for web-http, never path-to-lb',
    apply: (lab) => staleRouteAfterFailover(lab),
  },
];

export class FaultSwitchboard {
  private readonly on = new Map<string, Undo>();

  constructor(private readonly lab: Lab) {}

  help(): string {
    const vips = Object.keys(DEMO_VIPS).join('|');
    const servers = this.lab.servers.map((s) => s.name).join('|');
    const rows = DEMO_FAULTS.map((f) => {
      const usage = `fault ${f.name}${f.arg === 'vip' ? ` <${vips}>` : f.arg === 'server' ? ` <${servers}>` : ''}`;
      return `  ${usage}\n      ${f.what}; expect: ${f.expect}`;
    });
    return ['Lab faults (each command toggles; `faults` shows what is on, `fault clear` undoes all):', ...rows].join(
      '\n',
    );
  }

  list(): string {
    return this.on.size === 0
      ? 'No fault is on: every VIP should be healthy (culprit none). `faults help` lists the faults.'
      : `Faults on: ${[...this.on.keys()].join(', ')}. Type the same command again to switch one off.`;
  }

  /** Toggles `name [arg]`; returns what happened, or throws a DemoUsageError saying what to type. */
  async toggle(name: string, arg: string | undefined): Promise<string> {
    if (name === 'clear') {
      this.on.clear();
      await this.lab.faults.clear();
      return 'All faults off. The servers may need a second to pass the health checks again.';
    }
    const spec = DEMO_FAULTS.find((f) => f.name === name);
    if (spec === undefined) throw new DemoUsageError(`no fault "${name}"; type \`faults help\` for the list`);
    let kind: VipKind = 'haproxy-http';
    let server = '';
    if (spec.arg === 'vip') {
      const vip = DEMO_VIPS[arg as DemoVipName] as (typeof DEMO_VIPS)[DemoVipName] | undefined;
      if (arg === undefined || vip === undefined)
        throw new DemoUsageError(`fault ${name} needs a VIP: one of ${Object.keys(DEMO_VIPS).join(', ')}`);
      kind = vip.kind;
    } else if (spec.arg === 'server') {
      if (arg === undefined || !this.lab.servers.some((s) => s.name === arg))
        throw new DemoUsageError(
          `fault ${name} needs a server: one of ${this.lab.servers.map((s) => s.name).join(', ')}`,
        );
      server = arg;
    } else if (arg !== undefined) throw new DemoUsageError(`fault ${name} takes no argument`);
    const key = spec.arg === 'none' ? name : `${name} ${arg}`;
    const undo = this.on.get(key);
    if (undo) {
      this.on.delete(key);
      await undo();
      return `${key}: OFF.`;
    }
    this.on.set(key, await spec.apply(this.lab, kind, server));
    return `${key}: ON (${spec.what}). Expect: ${spec.expect}.`;
  }
}

export class DemoUsageError extends Error {
  override name = 'DemoUsageError';
}
