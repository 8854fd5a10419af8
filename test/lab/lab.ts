// The lab: a small load-balanced network in namespaces, built per run and torn
// down again, with real sshd, tcpdump, HAProxy, nginx and an iptables L4
// forwarder on the LB host and real HTTP servers behind it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressesForSlot, type LabAddresses } from './addresses.js';
import { LabFaults } from './faults.js';
import { addRule } from './iptables.js';
import {
  dnatRules,
  haproxyConfig,
  haproxySocket,
  haproxyTlsConfig,
  nginxConfig,
  type PoolMember,
} from './lb-configs.js';
import { labCaPem } from './certs.js';
import { httpGet } from './lab-probes.js';
import { labPreflight } from './preflight.js';
import { startInNamespace, waitForListen, type LabProcess } from './processes.js';
import { inNs, run, type CommandResult } from './run-command.js';

/** The TLS VIP's certificate subject (CN) and the SNI a client should send. */
export const LAB_TLS_NAME = 'web.lab.test';
import { releaseSlot, reserveSlot, staleSlots, writeSlot } from './slots.js';
import { prepareSshd, type LabSsh, type LabSshd } from './sshd.js';
import { allNamespaces, buildTopology, namespaceNames, type LabNamespaces } from './topology.js';
import { teardownSync } from './teardown.js';
import type { LabStandby } from './standby.js';

export type VipKind = 'haproxy-http' | 'haproxy-tcp' | 'nginx' | 'dnat';
export const VIP_KINDS: readonly VipKind[] = ['haproxy-http', 'haproxy-tcp', 'nginx', 'dnat'];

export interface LabVip {
  kind: VipKind;
  address: string;
  port: number;
  /** What a correct check should conclude about the LB's mode. */
  mode: 'L4' | 'L7';
  proxyKind: 'tcp' | 'http' | null;
}

export interface LabServer extends PoolMember {
  name: string;
  ns: string;
}

/** A lab host by role: 'router', 'lb', or a server name such as 's1'. */
export type LabHost = string;

const SERVER_PORT = 8080;
const VIP_PORT = 80;
const here = dirname(fileURLToPath(import.meta.url));
const live = new Set<Lab>();

export class Lab {
  readonly faults: LabFaults;
  private readonly procs = new Map<string, LabProcess>();
  private readonly starters = new Map<string, () => Promise<LabProcess>>();
  private tornDown = false;

  constructor(
    readonly runId: string,
    readonly slot: number,
    readonly addr: LabAddresses,
    readonly ns: LabNamespaces,
    readonly rootLink: string,
    readonly dir: string,
    readonly vips: Record<VipKind, LabVip>,
    readonly servers: LabServer[],
    /** HAProxy terminating TLS (L7, http proxy) on port 443, certificate CN web.lab.test. */
    readonly tlsVip: { address: string; port: number },
    public ssh: LabSsh | undefined = undefined,
    public sshd: LabSshd | undefined = undefined,
    /** The HA standby node, once standby.ts started it. */
    public standby: LabStandby | undefined = undefined,
  ) {
    this.faults = new LabFaults(this);
  }

  get sshInfo(): LabSsh {
    if (this.ssh === undefined) throw new Error('lab sshd not started');
    return this.ssh;
  }

  /** Namespace of a host by role name: 'router', 'lb' or a server name ('s1'...). */
  nsOf(host: LabHost): string {
    if (host === 'router') return this.ns.router;
    if (host === 'lb') return this.ns.lb;
    if (host === 'lb2') return this.ns.standby;
    const server = this.servers.find((s) => s.name === host);
    if (server === undefined) throw new Error(`no lab host ${host}`);
    return server.ns;
  }

  exec(host: LabHost, argv: readonly string[]): Promise<CommandResult> {
    return run(inNs(this.nsOf(host), argv));
  }

  /** The processes running in a host's namespace, with their command names (every one of them the lab's). */
  processes(host: LabHost): { pid: number; name: string }[] {
    const out = spawnSync('ip', ['netns', 'pids', this.nsOf(host)], { encoding: 'utf8' });
    return out.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((pid) => {
        try {
          return { pid: Number(pid.trim()), name: readFileSync(`/proc/${pid.trim()}/comm`, 'utf8').trim() };
        } catch {
          return { pid: Number(pid.trim()), name: '' };
        }
      })
      .filter((p) => p.name !== '');
  }

  /** Command names of the processes running in a host's namespace (to prove nothing was left running). */
  processNames(host: LabHost): string[] {
    return this.processes(host).map((p) => p.name);
  }

  /** Registers a restartable service and starts it. */
  async service(name: string, start: () => Promise<LabProcess>): Promise<void> {
    this.starters.set(name, start);
    this.procs.set(name, await start());
  }

  async stopService(name: string): Promise<void> {
    await this.procs.get(name)?.stop();
  }

  async restartService(name: string): Promise<void> {
    const start = this.starters.get(name);
    if (start === undefined) throw new Error(`no lab service ${name}`);
    await this.procs.get(name)?.stop();
    this.procs.set(name, await start());
  }

  serviceRunning(name: string): boolean {
    return this.procs.get(name)?.running ?? false;
  }

  /** PIDs of the lab's own daemons (for tests that prove none outlives the lab). */
  pids(): number[] {
    return [...this.procs.values()].flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  }

  /** Idempotent; safe from exit handlers. */
  teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    live.delete(this);
    teardownSync({ namespaces: allNamespaces(this.ns), rootLink: this.rootLink, tempDir: this.dir, pids: this.pids() });
    releaseSlot(this.slot);
  }
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const teardownAll = (): void => {
    for (const lab of [...live]) lab.teardown();
  };
  process.on('exit', teardownAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      teardownAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Tears down what runs killed outright (kill -9) left behind. */
export function reapStaleRuns(): void {
  for (const { slot, record } of staleSlots()) {
    if (record !== undefined) teardownSync({ ...record, pids: [] });
    releaseSlot(slot);
  }
}

export interface LabOptions {
  serverCount?: number;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  labPreflight();
  installExitHandlers();
  reapStaleRuns();
  const serverCount = options.serverCount ?? 3;
  const runId = randomBytes(3).toString('hex');
  const slot = reserveSlot(runId);
  const addr = addressesForSlot(slot);
  const ns = namespaceNames(runId, serverCount);
  const rootLink = `lbl${runId}`;
  const dir = mkdtempSync(join(tmpdir(), `lbcheck-lab-${runId}-`));
  // Recorded before anything exists, so a run killed mid-build is still reaped.
  writeSlot(slot, { pid: process.pid, runId, namespaces: allNamespaces(ns), rootLink, tempDir: dir });

  const servers: LabServer[] = ns.servers.map((serverNs, i) => ({
    name: `s${i + 1}`,
    address: addr.servers[i] ?? '',
    port: SERVER_PORT,
    ns: serverNs,
  }));
  const vip = (kind: VipKind, address: string, mode: LabVip['mode'], proxyKind: LabVip['proxyKind']): LabVip => ({
    kind,
    address,
    port: VIP_PORT,
    mode,
    proxyKind,
  });
  const vips: Record<VipKind, LabVip> = {
    'haproxy-http': vip('haproxy-http', addr.vips.haproxyHttp, 'L7', 'http'),
    'haproxy-tcp': vip('haproxy-tcp', addr.vips.haproxyTcp, 'L7', 'tcp'),
    nginx: vip('nginx', addr.vips.nginx, 'L7', 'http'),
    dnat: vip('dnat', addr.vips.dnat, 'L4', null),
  };
  const lab = new Lab(runId, slot, addr, ns, rootLink, dir, vips, servers, { address: addr.vips.tls, port: 443 });
  live.add(lab);
  try {
    await buildTopology(ns, addr, rootLink);
    await startServices(lab);
    return lab;
  } catch (err) {
    lab.teardown();
    throw err;
  }
}

/** Where the lab writes its LB configuration (faults rewrite these and restart the daemon). */
export function labFiles(lab: Pick<Lab, 'dir'>): {
  haproxy: Record<'http' | 'tcp', string>;
  nginxDir: string;
  nginxConf: string;
  tlsPem: string;
  /** The lab CA's certificate (it signs the TLS VIP's healthy certificate): the caFile a check is given. */
  tlsCa: string;
} {
  const nginxDir = join(lab.dir, 'nginx');
  return {
    haproxy: { http: join(lab.dir, 'haproxy-http.cfg'), tcp: join(lab.dir, 'haproxy-tcp.cfg') },
    nginxDir,
    nginxConf: join(nginxDir, 'nginx.conf'),
    tlsPem: join(lab.dir, 'tls.pem'),
    tlsCa: join(lab.dir, 'lab-ca', 'ca.crt'),
  };
}

async function startServices(lab: Lab): Promise<void> {
  const { addr, ns, dir, servers, vips } = lab;
  const serverScript = join(here, 'http-server.js');
  const members: PoolMember[] = servers.map(({ address, port }) => ({ address, port }));
  const daemon = (name: string, nsName: string, argv: string[], host: string, port: number) => async () => {
    const proc = startInNamespace(nsName, name, argv);
    await waitForListen(proc, host, port);
    return proc;
  };
  await Promise.all(
    servers.map((s) =>
      lab.service(
        s.name,
        daemon(s.name, s.ns, [process.execPath, serverScript, s.address, String(s.port), s.name], s.address, s.port),
      ),
    ),
  );

  const sshd = await prepareSshd(ns.lb, dir, addr.lbTransit, { sudoUser: true });
  lab.ssh = sshd.ssh;
  lab.sshd = sshd;
  await lab.service('sshd', () => sshd.start());

  for (const mode of ['http', 'tcp'] as const) {
    const v = vips[`haproxy-${mode}`];
    const cfg = labFiles(lab).haproxy[mode];
    writeFileSync(cfg, haproxyConfig(mode, v.address, v.port, members, haproxySocket(dir, mode)));
    await lab.service(v.kind, daemon(v.kind, ns.lb, ['/usr/sbin/haproxy', '-db', '-f', cfg], v.address, v.port));
  }

  const pem = labFiles(lab).tlsPem;
  writeFileSync(pem, (await labCaPem(dir, LAB_TLS_NAME, 90)).pem);
  const tlsCfg = join(dir, 'haproxy-tls.cfg');
  writeFileSync(tlsCfg, haproxyTlsConfig(lab.tlsVip.address, lab.tlsVip.port, pem, members));
  await lab.service(
    'haproxy-tls',
    daemon('haproxy-tls', ns.lb, ['/usr/sbin/haproxy', '-db', '-f', tlsCfg], lab.tlsVip.address, lab.tlsVip.port),
  );

  const nginxDir = labFiles(lab).nginxDir;
  mkdirSync(nginxDir, { recursive: true });
  writeFileSync(labFiles(lab).nginxConf, nginxConfig(nginxDir, vips.nginx.address, vips.nginx.port, members));
  await lab.service(
    'nginx',
    daemon(
      'nginx',
      ns.lb,
      ['/usr/sbin/nginx', '-e', 'stderr', '-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')],
      vips.nginx.address,
      vips.nginx.port,
    ),
  );

  const { dnat, snat } = dnatRules(vips.dnat.address, vips.dnat.port, members, addr.lbServerSide);
  for (const r of [...dnat, ...snat]) await addRule(ns.lb, r);
}

/**
 * Waits until every VIP serves a 200 again, e.g. after a fault is undone and
 * HAProxy's health checks must see the servers come back. Bounded.
 */
export async function waitHealthy(lab: Lab, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (const kind of VIP_KINDS) {
    const v = lab.vips[kind];
    for (;;) {
      const ok = await httpGet(v.address, v.port, 1000).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`lab VIP ${kind} (${v.address}:${v.port}) did not become healthy within ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
