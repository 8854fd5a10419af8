// Fault switches. Each applies one real failure to the lab and returns its
// undo; `clear()` undoes everything still active, newest first, so one lab can
// serve many tests.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRule, deleteRule, rootIptablesArgv, rule, type IptablesRule } from './iptables.js';
import { dnatRules } from './lb-configs.js';
import { startInNamespace, waitForListen } from './processes.js';
import { brokenPem, type BrokenCert } from './certs.js';
import { labFiles, LAB_TLS_NAME, type Lab, type VipKind } from './lab.js';
import { runOk } from './run-command.js';

export type Undo = () => Promise<void>;
export type RejectKind = 'icmp-port-unreachable' | 'icmp-admin-prohibited' | 'tcp-reset';

const here = dirname(fileURLToPath(import.meta.url));
const HIJACK_PORT = 8081;

export class LabFaults {
  private active: { name: string; undo: Undo }[] = [];

  constructor(private readonly lab: Lab) {}

  /** Names of the faults currently applied, oldest first. */
  get applied(): string[] {
    return this.active.map((a) => a.name);
  }

  /** A fault defined elsewhere (e.g. standby.ts), undone by clear() like the ones here. */
  register(name: string, doIt: () => Promise<void>, undoIt: () => Promise<void>): Promise<Undo> {
    return this.apply(name, doIt, undoIt);
  }

  private async apply(name: string, doIt: () => Promise<void>, undoIt: () => Promise<void>): Promise<Undo> {
    await doIt();
    const entry = { name, undo: undoIt };
    this.active.push(entry);
    return async () => {
      const i = this.active.indexOf(entry);
      if (i < 0) return;
      this.active.splice(i, 1);
      await undoIt();
    };
  }

  private withRules(
    name: string,
    ns: string,
    rules: IptablesRule[],
    position: 'insert' | 'append' = 'insert',
  ): Promise<Undo> {
    return this.apply(
      name,
      async () => {
        for (const r of rules) await addRule(ns, r, position);
      },
      async () => {
        for (const r of rules) await deleteRule(ns, r);
      },
    );
  }

  private vipMatch(kind: VipKind): string[] {
    const v = this.lab.vips[kind];
    return ['-d', `${v.address}/32`, '-p', 'tcp', '--dport', String(v.port)];
  }

  /** A firewall on the router silently drops traffic to the VIP: the client times out. */
  dropBeforeLb(kind: VipKind): Promise<Undo> {
    return this.withRules(`drop-before-lb:${kind}`, this.lab.ns.router, [
      rule('filter', 'FORWARD', [...this.vipMatch(kind), '-j', 'DROP']),
    ]);
  }

  /**
   * The path between lbcheck and the LB's sshd goes silent both ways (the router drops it, no reset, no ICMP), as
   * when a firewall loses its state or a link dies: the connection stays open on both ends and nothing arrives.
   */
  sshPathDropped(): Promise<Undo> {
    const { host, port } = this.lab.sshInfo;
    const ssh = ['-p', 'tcp', '-m', 'tcp'];
    return this.withRules('ssh-path-dropped', this.lab.ns.router, [
      rule('filter', 'FORWARD', ['-d', `${host}/32`, ...ssh, '--dport', String(port), '-j', 'DROP']),
      rule('filter', 'FORWARD', ['-s', `${host}/32`, ...ssh, '--sport', String(port), '-j', 'DROP']),
    ]);
  }

  /** A firewall on the router drops the VIP's replies to the clients: the LB answers, the client never hears it. */
  dropRepliesFromVip(kind: VipKind): Promise<Undo> {
    const v = this.lab.vips[kind];
    return this.withRules(`drop-replies:${kind}`, this.lab.ns.router, [
      rule('filter', 'FORWARD', ['-s', `${v.address}/32`, '-p', 'tcp', '--sport', String(v.port), '-j', 'DROP']),
    ]);
  }

  /**
   * The router loses the first SYN to the VIP after this (every other one, counted from the fault): one check's
   * first SYN is lost and its retransmission gets through.
   */
  loseFirstSyn(kind: VipKind): Promise<Undo> {
    const nth = ['-m', 'statistic', '--mode', 'nth', '--every', '2', '--packet', '0'];
    return this.withRules(`lose-first-syn:${kind}`, this.lab.ns.router, [
      rule('filter', 'FORWARD', [...this.vipMatch(kind), '--syn', ...nth, '-j', 'DROP']),
    ]);
  }

  /**
   * This host (the test process is the lab's client) refuses to send to the VIP: a rule in its own OUTPUT chain,
   * matching the lab's link only. drop: the client times out, no SYN leaves; reject: ICMP from this host itself;
   * reset: a TCP reset in the VIP's name, from this host itself. Teardown removes it even after a crash.
   */
  blockHere(kind: VipKind, how: 'drop' | 'reject' | 'reset'): Promise<Undo> {
    const action =
      how === 'drop' ? ['DROP'] : ['REJECT', '--reject-with', how === 'reset' ? 'tcp-reset' : 'icmp-port-unreachable'];
    const r = rule('filter', 'OUTPUT', ['-o', this.lab.rootLink, ...this.vipMatch(kind), '-j', ...action]);
    return this.apply(
      `block-here:${kind}:${how}`,
      () => runOk(rootIptablesArgv('-I', r)).then(() => undefined),
      () => runOk(rootIptablesArgv('-D', r)).then(() => undefined),
    );
  }

  /**
   * Direct server return for the lab's DSR address (not on the LB): the LB routes it, unchanged, to s1, and s1
   * answers the client straight through the router, around the LB. healthy: s1 holds the address on its loopback
   * and serves it (port 80 mapped to its server); member-lacks-vip: it does neither, so it drops what the LB passes.
   */
  directServerReturn(how: 'healthy' | 'member-lacks-vip'): Promise<Undo> {
    const vip = this.lab.addr.dsrVip;
    const s1 = this.lab.servers[0];
    if (!s1) throw new Error('the lab has no server');
    const route = (action: 'add' | 'del'): string[] => [
      'ip',
      'netns',
      'exec',
      this.lab.ns.lb,
      'ip',
      'route',
      action,
      `${vip}/32`,
      'via',
      s1.address,
    ];
    const loopback = (action: 'add' | 'del'): string[] => [
      'ip',
      'netns',
      'exec',
      s1.ns,
      'ip',
      'addr',
      action,
      `${vip}/32`,
      'dev',
      'lo',
    ];
    const serve = rule('nat', 'PREROUTING', [
      '-d',
      `${vip}/32`,
      '-p',
      'tcp',
      '--dport',
      '80',
      '-j',
      'DNAT',
      '--to-destination',
      `${s1.address}:${s1.port}`,
    ]);
    return this.apply(
      `direct-server-return:${how}`,
      async () => {
        await runOk(route('add'));
        if (how === 'healthy') {
          await runOk(loopback('add'));
          await addRule(s1.ns, serve);
        }
      },
      async () => {
        await runOk(route('del'));
        if (how === 'healthy') {
          await runOk(loopback('del'));
          await deleteRule(s1.ns, serve);
        }
      },
    );
  }

  /**
   * The LB's own host firewall drops what its servers send it (an INPUT chain that forgot to accept replies):
   * its connections to them time out although their SYN-ACKs reach its interface.
   */
  lbDropsServerAnswers(): Promise<Undo> {
    return this.withRules(
      'lb-drops-server-answers',
      this.lab.ns.lb,
      this.lab.servers.map((s) =>
        rule('filter', 'INPUT', ['-s', `${s.address}/32`, '-p', 'tcp', '--sport', String(s.port), '-j', 'DROP']),
      ),
    );
  }

  /** A firewall on the router rejects traffic to the VIP (ICMP from the router, or a TCP reset in the VIP's name). */
  rejectBeforeLb(kind: VipKind, how: RejectKind = 'icmp-port-unreachable'): Promise<Undo> {
    return this.withRules(`reject-before-lb:${kind}:${how}`, this.lab.ns.router, [
      rule('filter', 'FORWARD', [...this.vipMatch(kind), '-j', 'REJECT', '--reject-with', how]),
    ]);
  }

  /**
   * Impostor: another device answers in the LB's name, and the LB never sees the SYN.
   * 'reset' forges a RST from the VIP's address (what a reject-with-tcp-reset firewall does);
   * 'hijack' completes the handshake itself, so the client even "connects".
   */
  async impostor(kind: VipKind, how: 'reset' | 'hijack' = 'reset'): Promise<Undo> {
    if (how === 'reset') {
      return this.withRules(`impostor:${kind}:reset`, this.lab.ns.router, [
        rule('filter', 'FORWARD', [...this.vipMatch(kind), '-j', 'REJECT', '--reject-with', 'tcp-reset']),
      ]);
    }
    const router = this.lab.ns.router;
    const listen = this.lab.addr.routerClientSide;
    const script = join(here, 'http-server.js');
    await this.lab.service('impostor', async () => {
      const proc = startInNamespace(router, 'impostor', [
        process.execPath,
        script,
        '0.0.0.0',
        String(HIJACK_PORT),
        'impostor',
      ]);
      await waitForListen(proc, listen, HIJACK_PORT);
      return proc;
    });
    const undoRule = await this.withRules(`impostor:${kind}:hijack`, router, [
      rule('nat', 'PREROUTING', [...this.vipMatch(kind), '-j', 'REDIRECT', '--to-ports', String(HIJACK_PORT)]),
    ]);
    return async () => {
      await undoRule();
      await this.lab.stopService('impostor');
    };
  }

  /** The VIP's listener is gone (proxy stopped, or DNAT rules removed): the LB itself refuses. */
  vipNotListening(kind: VipKind): Promise<Undo> {
    if (kind !== 'dnat') {
      return this.apply(
        `vip-not-listening:${kind}`,
        () => this.lab.stopService(kind),
        () => this.lab.restartService(kind),
      );
    }
    const { dnat } = this.dnatRules();
    return this.apply(
      'vip-not-listening:dnat',
      async () => {
        for (const r of dnat) await deleteRule(this.lab.ns.lb, r);
      },
      async () => {
        for (const r of dnat) await addRule(this.lab.ns.lb, r, 'append');
      },
    );
  }

  /** One real server's service is down: its kernel refuses connections. */
  serverDown(name: string): Promise<Undo> {
    return this.apply(
      `server-down:${name}`,
      () => this.lab.stopService(name),
      () => this.lab.restartService(name),
    );
  }

  async allServersDown(): Promise<Undo> {
    const undos: Undo[] = [];
    for (const s of this.lab.servers) undos.push(await this.serverDown(s.name));
    return async () => {
      for (const undo of undos.reverse()) await undo();
    };
  }

  /** A server's host firewall drops or rejects only the LB's source address; direct probes still work. */
  serverBlocksLb(name: string, how: 'drop' | 'reject'): Promise<Undo> {
    const server = this.lab.servers.find((s) => s.name === name);
    if (server === undefined) throw new Error(`no lab server ${name}`);
    const target = how === 'drop' ? ['-j', 'DROP'] : ['-j', 'REJECT', '--reject-with', 'tcp-reset'];
    return this.withRules(`server-blocks-lb:${name}:${how}`, server.ns, [
      rule('filter', 'INPUT', [
        '-s',
        `${this.lab.addr.lbServerSide}/32`,
        '-p',
        'tcp',
        '--dport',
        String(server.port),
        ...target,
      ]),
    ]);
  }

  /**
   * The L4 forwarder stops SNATing: servers see the client's address and, their gateway
   * being the router, reply around the LB (asymmetric return).
   */
  missingSnat(): Promise<Undo> {
    const { snat } = this.dnatRules();
    return this.apply(
      'missing-snat',
      async () => {
        for (const r of snat) await deleteRule(this.lab.ns.lb, r);
      },
      async () => {
        for (const r of snat) await addRule(this.lab.ns.lb, r, 'append');
      },
    );
  }

  /**
   * tcpdump is not installed on the LB, as far as SSH sessions can tell: sshd
   * restarts with a session PATH holding the usual tools but not tcpdump.
   */
  tcpdumpMissing(): Promise<Undo> {
    const bin = join(this.lab.dir, 'lb-bin-without-tcpdump');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['sh', 'bash', 'timeout', 'kill', 'head', 'printf', 'true', 'id', 'cat', 'sleep']) {
      const target = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((f) => existsSync(f));
      if (target && !existsSync(join(bin, tool))) symlinkSync(target, join(bin, tool));
    }
    return this.sshdConfig('tcpdump-missing', [`SetEnv PATH=${bin}`]);
  }

  /**
   * The SSH account may not capture: the real tcpdump runs without CAP_NET_RAW
   * (a PATH wrapper drops it from the bounding set, as a restricted account would lack it).
   */
  tcpdumpNotPermitted(): Promise<Undo> {
    const bin = join(this.lab.dir, 'lb-bin-no-capture-rights');
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, 'tcpdump'),
      '#!/bin/sh\nexec setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- /usr/bin/tcpdump "$@"\n',
      { mode: 0o755 },
    );
    return this.sshdConfig('tcpdump-not-permitted', [`SetEnv PATH=${bin}:/usr/sbin:/usr/bin:/sbin:/bin`]);
  }

  /** The LB's sshd refuses direct-tcpip forwarding (lbcheck must fall back to a remote command). */
  sshForwardingDisabled(): Promise<Undo> {
    return this.sshdConfig('ssh-forwarding-disabled', ['AllowTcpForwarding no']);
  }

  /** The LB's sshd allows only n session channels per connection (OpenSSH's MaxSessions; 10 by default). */
  sshMaxSessions(n: number): Promise<Undo> {
    return this.sshdConfig(`ssh-max-sessions:${n}`, [`MaxSessions ${n}`]);
  }

  /**
   * The LB's root login shell runs script at start-up (bash reads ~/.bashrc for every command sshd runs), as
   * vendor shells do: e.g. `sleep 0.3` for their cost, or a line that logs each shell started.
   */
  loginShellStartup(script: string): Promise<Undo> {
    const rc = join(this.lab.dir, 'lb-root-home', '.bashrc');
    return this.apply(
      'login-shell-startup',
      () => Promise.resolve(writeFileSync(rc, `${script}\n`)),
      () => Promise.resolve(rmSync(rc, { force: true })),
    );
  }

  /** Restarts the LB's sshd with extra configuration; existing sessions keep the old one. */
  private sshdConfig(name: string, extra: string[]): Promise<Undo> {
    const sshd = this.lab.sshd;
    if (!sshd) throw new Error('lab sshd not prepared');
    const restart = async (lines: string[]): Promise<void> => {
      await this.lab.stopService('sshd');
      await this.lab.service('sshd', () => sshd.start(lines));
    };
    return this.apply(
      name,
      () => restart(extra),
      () => restart([]),
    );
  }

  /**
   * Every server accepts connections but misbehaves: 'hang' reads the request
   * and never answers (a hung application), 'error' answers 500.
   */
  async serversMisbehave(mode: 'hang' | 'error' | 'hostile' | 'head-first'): Promise<Undo> {
    const script = join(here, 'http-server.js');
    const replacement = (name: string): string => `${name}-${mode}`;
    return this.apply(
      `servers-${mode}`,
      async () => {
        for (const s of this.lab.servers) {
          await this.lab.stopService(s.name);
          await this.lab.service(replacement(s.name), async () => {
            const proc = startInNamespace(s.ns, replacement(s.name), [
              process.execPath,
              script,
              s.address,
              String(s.port),
              s.name,
              mode,
            ]);
            await waitForListen(proc, s.address, s.port);
            return proc;
          });
        }
      },
      async () => {
        for (const s of this.lab.servers) {
          await this.lab.stopService(replacement(s.name));
          await this.lab.restartService(s.name);
        }
      },
    );
  }

  /** The virtual accepts connections and never answers (the seed's BIG-IP v4 case), while the servers are fine. */
  async vipSilent(kind: Exclude<VipKind, 'dnat'>): Promise<Undo> {
    const v = this.lab.vips[kind];
    const script = join(here, 'http-server.js');
    return this.apply(
      `vip-silent:${kind}`,
      async () => {
        await this.lab.stopService(kind);
        await this.lab.service(`${kind}-silent`, async () => {
          const proc = startInNamespace(this.lab.ns.lb, `${kind}-silent`, [
            process.execPath,
            script,
            v.address,
            String(v.port),
            'wedged-vip',
            'hang',
          ]);
          await waitForListen(proc, v.address, v.port);
          return proc;
        });
      },
      async () => {
        await this.lab.stopService(`${kind}-silent`);
        await this.lab.restartService(kind);
      },
    );
  }

  /**
   * An MTU black hole between the client and the LB: full-size packets vanish,
   * small ones pass, and no ICMP "fragmentation needed" ever comes back.
   * 'vip': only the VIP's packets towards the client cross the bad hop (the
   * router drops those longer than `mtu`), so lbcheck's own SSH path to the LB
   * is clean. 'path': the router's client-side link itself gets the smaller
   * MTU with its ICMP filtered, so the SSH session to the LB crosses the same
   * hole, as it does when the vantage point shares the clients' path.
   */
  mtuBlackHole(scope: 'vip' | 'path' = 'vip', mtu = 1280): Promise<Undo> {
    const router = this.lab.ns.router;
    if (scope === 'vip') {
      return this.withRules(`mtu-black-hole:vip:${mtu}`, router, [
        rule('filter', 'FORWARD', [
          '-s',
          this.lab.addr.vipSubnet,
          '-d',
          this.lab.addr.clientSubnet,
          '-m',
          'length',
          '--length',
          `${mtu + 1}:65535`,
          '-j',
          'DROP',
        ]),
      ]);
    }
    const icmp = rule('filter', 'OUTPUT', ['-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-j', 'DROP']);
    return this.apply(
      `mtu-black-hole:path:${mtu}`,
      async () => {
        await addRule(router, icmp, 'insert');
        await runOk(['ip', 'netns', 'exec', router, 'ip', 'link', 'set', 'eth0', 'mtu', String(mtu)]);
      },
      async () => {
        await runOk(['ip', 'netns', 'exec', router, 'ip', 'link', 'set', 'eth0', 'mtu', '1500']);
        await deleteRule(router, icmp);
      },
    );
  }

  /**
   * An MTU black hole between the LB and its servers: the switch port toward the LB (the bridge port p-lb) gets a
   * smaller MTU, so the bridge drops every larger frame from a server to the LB, silently (a bridge sends no ICMP),
   * while direct traffic to the servers (through the router's port) and the LB's own MTU (its SYNs still offer a
   * 1460-byte MSS) stay as they were. A bridge passes a GSO packet whatever its size, and on veth links the
   * servers' TCP would send one 4 KB packet rather than three frames: each server's link gets gso_max_segs 1, so
   * every packet is one real frame, as on a physical NIC. The servers answer head first, in its own small segment,
   * as nginx and Apache do with sendfile: the head passes, the body never does (what users see: a page that starts
   * and never finishes).
   */
  async lbServerMtuBlackHole(mtu = 1200): Promise<Undo> {
    const undoServers = await this.serversMisbehave('head-first');
    const { sw } = this.lab.ns;
    const set = async (ns: string, dev: string, what: string, value: number): Promise<void> => {
      await runOk(['ip', '-n', ns, 'link', 'set', dev, what, String(value)]);
    };
    const undoMtu = await this.apply(
      `lb-server-mtu-black-hole:${mtu}`,
      async () => {
        for (const s of this.lab.servers) await set(s.ns, 'eth0', 'gso_max_segs', 1);
        await set(sw, 'p-lb', 'mtu', mtu);
      },
      async () => {
        await set(sw, 'p-lb', 'mtu', 1500);
        for (const s of this.lab.servers) await set(s.ns, 'eth0', 'gso_max_segs', 65535);
      },
    );
    return async () => {
      await undoMtu();
      await undoServers();
    };
  }

  /** The TLS VIP presents a broken certificate. */
  tlsCertificate(kind: BrokenCert): Promise<Undo> {
    const pem = labFiles(this.lab).tlsPem;
    const good = readFileSync(pem);
    return this.apply(
      `tls-certificate:${kind}`,
      async () => {
        writeFileSync(pem, await brokenPem(this.lab.dir, kind, LAB_TLS_NAME));
        await this.lab.restartService('haproxy-tls');
      },
      async () => {
        writeFileSync(pem, good);
        await this.lab.restartService('haproxy-tls');
      },
    );
  }

  /** HAProxy's http frontend expects the PROXY protocol (bind ... accept-proxy); plain clients are cut off. */
  proxyProtocolExpected(): Promise<Undo> {
    const v = this.lab.vips['haproxy-http'];
    return this.rewriteConfig('proxy-protocol', labFiles(this.lab).haproxy.http, 'haproxy-http', (cfg) =>
      cfg.replace(`bind ${v.address}:${v.port}`, `bind ${v.address}:${v.port} accept-proxy`),
    );
  }

  /**
   * HAProxy's backend of that mode without health checks: it keeps sending clients to members that are down (a
   * TCP proxy then connects to one the moment it accepts a client, and is refused).
   */
  haproxyChecksOff(mode: 'http' | 'tcp'): Promise<Undo> {
    return this.rewriteConfig(
      `haproxy-checks-off:${mode}`,
      labFiles(this.lab).haproxy[mode],
      `haproxy-${mode}`,
      (cfg) => cfg.replace(/ check inter \S+ fall \d+ rise \d+/g, ''),
    );
  }

  /** The LB's pool points at another port than the inventory lists (pool drift); nothing listens there. */
  poolDrift(port = 9090, kind: 'nginx' | 'haproxy-http' = 'nginx'): Promise<Undo> {
    if (kind === 'haproxy-http') {
      return this.rewriteConfig(`pool-drift:${kind}:${port}`, labFiles(this.lab).haproxy.http, kind, (cfg) =>
        cfg.replace(/(server s\d+ [\d.]+):\d+ /g, `$1:${port} `),
      );
    }
    return this.rewriteConfig(`pool-drift:${port}`, labFiles(this.lab).nginxConf, 'nginx', (cfg) =>
      cfg.replace(/(server [\d.]+):\d+ max_fails/g, `$1:${port} max_fails`),
    );
  }

  /** A host firewall on the LB drops the VIP's SYNs itself (tcpdump still sees them arrive). */
  lbDropsSyn(kind: VipKind): Promise<Undo> {
    return this.withRules(`lb-drops-syn:${kind}`, this.lab.ns.lb, [
      rule('filter', 'INPUT', [...this.vipMatch(kind), '-j', 'DROP']),
    ]);
  }

  /** IP forwarding is off on the LB: the L4 (DNAT) virtual cannot pass anything on. */
  lbForwardingOff(): Promise<Undo> {
    const sysctl = (v: string): Promise<unknown> =>
      runOk(['ip', 'netns', 'exec', this.lab.ns.lb, 'sysctl', '-q', '-w', `net.ipv4.ip_forward=${v}`]);
    return this.apply(
      'lb-forwarding-off',
      () => sysctl('0').then(() => undefined),
      () => sysctl('1').then(() => undefined),
    );
  }

  /**
   * A busy LB: thousands of SYNs a second from the router to another address
   * on the LB (the idle VIP, which the LB's kernel answers with resets).
   * hping3 runs in the router's namespace and targets only the lab's address.
   */
  async backgroundTraffic(perSecond = 5000): Promise<Undo> {
    const target = this.lab.addr.vips.idle;
    const intervalUs = Math.max(1, Math.round(1_000_000 / perSecond));
    await this.lab.service('background-traffic', () =>
      Promise.resolve(
        startInNamespace(this.lab.ns.router, 'background-traffic', [
          '/usr/sbin/hping3',
          '-q',
          '-S',
          '-p',
          '80',
          '-i',
          `u${intervalUs}`,
          target,
        ]),
      ),
    );
    return this.apply(
      `background-traffic:${perSecond}/s`,
      () => Promise.resolve(),
      () => this.lab.stopService('background-traffic'),
    );
  }

  private rewriteConfig(name: string, file: string, service: string, edit: (cfg: string) => string): Promise<Undo> {
    const original = readFileSync(file, 'utf8');
    return this.apply(
      name,
      async () => {
        const changed = edit(original);
        if (changed === original) throw new Error(`fault ${name}: the edit changed nothing in ${file}`);
        writeFileSync(file, changed);
        await this.lab.restartService(service);
      },
      async () => {
        writeFileSync(file, original);
        await this.lab.restartService(service);
      },
    );
  }

  async clear(): Promise<void> {
    while (this.active.length > 0) {
      const last = this.active.pop();
      if (last) await last.undo();
    }
  }

  private dnatRules(): ReturnType<typeof dnatRules> {
    const v = this.lab.vips.dnat;
    return dnatRules(v.address, v.port, this.lab.servers, this.lab.addr.lbServerSide);
  }
}
