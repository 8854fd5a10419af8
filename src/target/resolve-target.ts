// Turns what the user asked for (an inventory name or ip:port, plus options)
// into a CheckTarget: addresses resolved, key read, host-key pins loaded.
import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CheckTarget } from './check-target.js';
import type { LbAccess } from '../remote/lb-access.js';
import { ConfigError, InputError } from '../errors.js';
import type { Inventory, InventoryLb } from '../inventory/inventory-types.js';
import { parseFingerprint, pinsFromKnownHosts } from '../remote/host-keys.js';
import { canonicalIPv6, parseEndpoint, parseSshUrl, type SshTarget } from './endpoint.js';
import { formatEndpoint } from '../model/endpoint-text.js';

export interface TargetRequest {
  target: string;
  members?: string[];
  lbUrl?: string;
  identity?: string;
  knownHosts?: string;
  hostKey?: string;
  tls?: boolean;
  sni?: string;
  /** --ca-file: the CAs the VIP's clients trust (overrides the inventory's caFile). */
  caFile?: string;
  protocol?: 'http' | 'tcp';
  captureInterface?: string;
  /** --sudo with --lb: the account is not root (privileged commands through `sudo -n`). */
  sudo?: boolean;
  /** --no-warm-channels: a channel per command (a key whose forced command vets each one); overrides the inventory. */
  noWarmChannels?: boolean;
}

const TARGET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

async function toIp(host: string, what: string): Promise<string> {
  try {
    const { address } = await lookup(host, { verbatim: true });
    // The capture's spelling (a resolver may write ::ffff:198.18.0.1 dotted): compared with it as a string.
    return isIPv6(address) ? canonicalIPv6(address) : address;
  } catch (err) {
    throw new InputError(
      `cannot resolve ${what} ${host} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'use an IP address or a name this machine can resolve',
    );
  }
}

function readKey(file: string, lbLabel: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `cannot read the SSH key ${file} for ${lbLabel} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'pass --identity FILE or fix identity in the inventory',
    );
  }
}

function lbAccess(
  ssh: SshTarget,
  identity: string,
  pinsFrom: { knownHosts?: string | undefined; hostKeys: string[] },
  iface: string,
  label: string,
): LbAccess {
  const knownHosts = pinsFrom.knownHosts ?? (pinsFrom.hostKeys.length === 0 ? defaultKnownHosts() : undefined);
  const fromFile = knownHosts ? pinsFromKnownHosts(knownHosts, ssh.host, ssh.port) : { fingerprints: [], revoked: [] };
  return {
    host: ssh.host,
    port: ssh.port,
    user: ssh.user,
    privateKey: readKey(identity, label),
    pins: { fingerprints: [...pinsFrom.hostKeys, ...fromFile.fingerprints], revoked: fromFile.revoked },
    captureInterface: iface,
    label,
  };
}

function defaultKnownHosts(): string | undefined {
  const file = join(homedir(), '.ssh', 'known_hosts');
  return existsSync(file) ? file : undefined;
}

function defaultIdentity(): string {
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const file = join(homedir(), '.ssh', name);
    if (existsSync(file)) return file;
  }
  throw new InputError('no SSH key for --lb', 'pass --identity FILE');
}

function fromInventoryLb(lb: InventoryLb, req: TargetRequest): LbAccess {
  const access = lbAccess(
    lb.ssh,
    req.identity ?? lb.identity,
    { knownHosts: req.knownHosts ?? lb.knownHosts, hostKeys: lb.hostKeys },
    req.captureInterface ?? lb.captureInterface,
    `${lb.name} (${formatEndpoint(lb.ssh)})`,
  );
  return {
    ...access,
    ...(lb.sudo ? { sudo: true } : {}),
    ...(req.noWarmChannels
      ? { warmChannels: 0 }
      : lb.warmChannels !== undefined
        ? { warmChannels: lb.warmChannels }
        : {}),
  };
}

async function groupNode(name: string, inventory: Inventory | undefined, req: TargetRequest): Promise<LbAccess> {
  const invLb = inventory?.loadBalancers.get(name);
  if (!invLb) throw new ConfigError(`the HA group names load balancer ${name}, which is not in the inventory`);
  const access = fromInventoryLb(invLb, req);
  return { ...access, host: await toIp(access.host, 'LB') };
}

const INTERFACE = /^[a-zA-Z0-9_.:@-]{1,15}$/;

type VipEntry = ReturnType<Inventory['vips']['get']>;

interface Vip {
  address: string;
  port: number;
  name?: string;
}

function checkInterfaceName(name: string | undefined): void {
  if (name !== undefined && !INTERFACE.test(name)) {
    throw new InputError(
      `capture interface ${JSON.stringify(name.slice(0, 40))} is not an interface name`,
      'use a name such as any, eth0 or bond0.100',
    );
  }
}

/** The VIP asked for, and its inventory entry: found by name, or by address and port for an ip:port target. */
function findVip(target: string, inventory: Inventory | undefined): { vip: Vip; entry: VipEntry } {
  const isName = TARGET_NAME.test(target) && !target.includes(':') && !/^[\d.]+$/.test(target);
  if (isName) {
    const entry = inventory?.vips.get(target);
    if (!entry) {
      const known = inventory ? [...inventory.vips.keys()] : [];
      throw new InputError(
        `unknown target "${target}"`,
        inventory
          ? `known targets: ${known.join(', ') || '(none)'}; or give ip:port`
          : 'give ip:port, or an inventory with --config / LBCHECK_CONFIG',
      );
    }
    return { vip: { address: entry.address, port: entry.port, name: entry.name }, entry };
  }
  const e = parseEndpoint(target, 'target');
  const vip: Vip = { address: e.host, port: e.port };
  const entry = inventory
    ? [...inventory.vips.values()].find((v) => v.address === e.host && v.port === e.port)
    : undefined;
  if (entry) vip.name = entry.name;
  return { vip, entry };
}

/** The LB to capture on: --lb (with its own key and pins), else the inventory entry's; none for a bare VIP. */
function lbFor(req: TargetRequest, entry: VipEntry, inventory: Inventory | undefined): LbAccess | undefined {
  if (req.lbUrl) {
    const ssh = parseSshUrl(req.lbUrl);
    const hostKeys = req.hostKey ? [parseFingerprint(req.hostKey, '--host-key')] : [];
    const lb = lbAccess(
      ssh,
      req.identity ?? defaultIdentity(),
      { knownHosts: req.knownHosts, hostKeys },
      req.captureInterface ?? 'any',
      formatEndpoint(ssh),
    );
    if (req.sudo) lb.sudo = true;
    if (req.noWarmChannels) lb.warmChannels = 0;
    return lb;
  }
  if (!entry?.lb) return undefined;
  const invLb = inventory?.loadBalancers.get(entry.lb);
  if (!invLb) throw new ConfigError(`VIP ${entry.name} names load balancer ${entry.lb}, which is not in the inventory`);
  return fromInventoryLb(invLb, req);
}

/** What the inventory entry adds to the target beyond address, port and LB. */
function withEntryOptions(target: CheckTarget, entry: VipEntry, lbNodes: LbAccess[] | undefined): CheckTarget {
  if (lbNodes && entry?.activeActive) target.activeActive = true;
  if (entry?.httpPath) target.httpPath = entry.httpPath;
  if (entry?.expectStatus) target.expectStatus = entry.expectStatus;
  if (entry?.lbView) target.lbView = entry.lbView;
  return target;
}

/** The name TLS asks for (SNI; a VIP given by name sends its name) and the CA bundle its chain is checked against. */
function withTlsNames(target: CheckTarget, req: TargetRequest, entry: VipEntry, address: string): void {
  const sni = req.sni ?? entry?.sni ?? (/^[\d.:]+$/.test(address) ? undefined : address);
  if (sni) target.sni = sni;
  const caFile = req.caFile ?? entry?.caFile;
  if (caFile) target.caFile = caFile;
}

export async function resolveTarget(req: TargetRequest, inventory: Inventory | undefined): Promise<CheckTarget> {
  checkInterfaceName(req.captureInterface);
  const { vip, entry } = findVip(req.target, inventory);
  const members =
    req.members && req.members.length > 0 ? req.members.map((m) => parseEndpoint(m, 'member')) : (entry?.members ?? []);
  const lb = lbFor(req, entry, inventory);
  if (lb) lb.host = await toIp(lb.host, 'LB');
  // An HA group (only from the inventory; --lb names one node): every node, the first being lb itself.
  const lbNodes =
    lb && !req.lbUrl && entry?.lbNodes
      ? [lb, ...(await Promise.all(entry.lbNodes.slice(1).map((n) => groupNode(n, inventory, req))))]
      : undefined;

  const target: CheckTarget = {
    vip: await toIp(vip.address, 'VIP'),
    port: vip.port,
    protocol: req.protocol ?? entry?.protocol ?? 'http',
    tls: req.tls ?? entry?.tls ?? vip.port === 443,
    members: await Promise.all(members.map(async (m) => ({ host: await toIp(m.host, 'member'), port: m.port }))),
  };
  if (vip.name) target.name = vip.name;
  withTlsNames(target, req, entry, vip.address);
  if (lb) target.lb = lb;
  if (lbNodes) target.lbNodes = lbNodes;
  return withEntryOptions(target, entry, lbNodes);
}
