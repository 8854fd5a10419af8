// Loads and validates the inventory file. Every problem is reported with the
// file and line it is on, all at once, so a config can be fixed in one pass.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { parseFingerprint } from '../remote/host-keys.js';
import { parseEndpoint, parseHost, parsePort, parseSshUrl } from '../target/endpoint.js';
import { loadPolicy } from '../policy/load-policy.js';
import type { Inventory, InventoryLb, InventoryVip } from './inventory-types.js';
import { loadLbGroups, vipLb, type LbGroups } from './lb-groups.js';
import { parseHttpPath, parseLbView, parseStatusRange } from './health-check.js';
import { checkKeys, entries, field, Problems, scalar } from './yaml-helpers.js';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

function loadLb(p: Problems, name: string, node: Node | null): InventoryLb | undefined {
  if (!isMap(node)) return void p.at(node, `load balancer "${name}" must be a mapping`);
  checkKeys(
    p,
    node,
    ['ssh', 'identity', 'hostKey', 'hostKeys', 'knownHosts', 'captureInterface', 'zone', 'sudo'],
    `load balancer "${name}"`,
  );
  const sshText = scalar(field(node, 'ssh'));
  if (!sshText) p.at(node, `load balancer "${name}" needs ssh: ssh://user@host[:port]`);
  const ssh = sshText ? p.try(field(node, 'ssh'), () => parseSshUrl(sshText, 'ssh')) : undefined;
  const identity = scalar(field(node, 'identity'));
  if (!identity) p.at(node, `load balancer "${name}" needs identity: the path of the SSH private key`);
  const hostKeys: string[] = [];
  const single = field(node, 'hostKey');
  const many = field(node, 'hostKeys');
  for (const n of [single, ...(isSeq(many) ? (many.items as Node[]) : [])]) {
    const text = scalar(n);
    if (text) {
      const fp = p.try(n, () => parseFingerprint(text, `load balancer "${name}"`));
      if (fp) hostKeys.push(fp);
    } else if (n !== undefined) {
      // An empty pin must not quietly fall back to ~/.ssh/known_hosts.
      p.at(
        n,
        `load balancer "${name}": hostKey is empty; give SHA256:... (ssh-keygen -lf on the LB's host key) or knownHosts: FILE`,
      );
    }
  }
  const knownHosts = scalar(field(node, 'knownHosts'));
  if (hostKeys.length === 0 && !knownHosts && single === undefined && many === undefined)
    p.at(node, `load balancer "${name}" needs a pinned host key: hostKey: SHA256:... or knownHosts: FILE`);
  const captureInterface = scalar(field(node, 'captureInterface')) ?? 'any';
  if (!/^[a-zA-Z0-9_.:@-]{1,15}$/.test(captureInterface))
    p.at(field(node, 'captureInterface'), `captureInterface "${captureInterface}" is not an interface name`);
  const zone = scalar(field(node, 'zone'));
  const sudo = scalar(field(node, 'sudo'));
  if (sudo !== undefined && sudo !== 'true' && sudo !== 'false')
    p.at(field(node, 'sudo'), `load balancer "${name}": sudo must be true or false, not "${sudo}"`);
  if (!ssh || !identity) return undefined;
  return {
    name,
    ssh,
    identity,
    hostKeys,
    captureInterface,
    ...(knownHosts ? { knownHosts } : {}),
    ...(zone ? { zone } : {}),
    ...(sudo === 'true' ? { sudo: true } : {}),
  };
}

function loadVip(
  p: Problems,
  name: string,
  node: Node | null,
  lbs: Map<string, InventoryLb>,
  groups: LbGroups,
): InventoryVip | undefined {
  if (!isMap(node)) return void p.at(node, `VIP "${name}" must be a mapping`);
  checkKeys(
    p,
    node,
    ['address', 'port', 'protocol', 'tls', 'sni', 'lb', 'members', 'zone', 'httpPath', 'expectStatus', 'lbView'],
    `VIP "${name}"`,
  );
  const addressText = scalar(field(node, 'address'));
  if (!addressText) p.at(node, `VIP "${name}" needs address`);
  const address = addressText
    ? p.try(field(node, 'address'), () => parseHost(addressText, `VIP "${name}" address`).host)
    : undefined;
  const portText = scalar(field(node, 'port'));
  if (!portText) p.at(node, `VIP "${name}" needs port`);
  const port = portText ? p.try(field(node, 'port'), () => parsePort(portText, `VIP "${name}" port`)) : undefined;
  const protocol = scalar(field(node, 'protocol')) ?? 'http';
  if (protocol !== 'http' && protocol !== 'tcp')
    p.at(field(node, 'protocol'), `protocol must be http or tcp, not "${protocol}"`);
  const tls = scalar(field(node, 'tls')) === 'true' || (port === 443 && scalar(field(node, 'tls')) !== 'false');
  const { lb, lbNodes, activeActive } = vipLb(p, field(node, 'lb'), name, lbs, groups);
  const membersNode = field(node, 'members');
  const members: { host: string; port: number }[] = [];
  if (membersNode !== undefined && membersNode !== null && !isSeq(membersNode))
    p.at(membersNode, 'members must be a list of host:port');
  for (const m of isSeq(membersNode) ? (membersNode.items as Node[]) : []) {
    const text = scalar(m);
    const e = text ? p.try(m, () => parseEndpoint(text, 'member')) : void p.at(m, 'a member must be host:port');
    if (e) members.push({ host: e.host, port: e.port });
  }
  const sni = scalar(field(node, 'sni'));
  const zone = scalar(field(node, 'zone'));
  const pathText = scalar(field(node, 'httpPath'));
  const httpPath = pathText === undefined ? undefined : p.try(field(node, 'httpPath'), () => parseHttpPath(pathText));
  const viewNode = field(node, 'lbView');
  if (viewNode !== undefined && viewNode !== null && !isMap(viewNode)) p.at(viewNode, 'lbView must be a mapping');
  if (isMap(viewNode)) checkKeys(p, viewNode, ['kind', 'socket', 'backend', 'config'], `VIP "${name}" lbView`);
  const lbView = isMap(viewNode)
    ? p.try(viewNode, () =>
        parseLbView(
          Object.fromEntries(['kind', 'socket', 'backend', 'config'].map((k) => [k, scalar(field(viewNode, k))])),
        ),
      )
    : undefined;
  const statusText = scalar(field(node, 'expectStatus'));
  const expectStatus =
    statusText === undefined ? undefined : p.try(field(node, 'expectStatus'), () => parseStatusRange(statusText));
  if (!address || !port || (protocol !== 'http' && protocol !== 'tcp')) return undefined;
  return {
    name,
    address,
    port,
    protocol,
    tls,
    members,
    ...(lb ? { lb } : {}),
    ...(lbNodes ? { lbNodes } : {}),
    ...(activeActive ? { activeActive } : {}),
    ...(sni ? { sni } : {}),
    ...(zone ? { zone } : {}),
    ...(httpPath ? { httpPath } : {}),
    ...(expectStatus ? { expectStatus } : {}),
    ...(lbView ? { lbView } : {}),
  };
}

export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const p = new Problems(file, lines);
  for (const e of doc.errors) p.list.push(`${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
  const root = doc.contents as Node | null;
  if (doc.errors.length === 0 && !isMap(root))
    p.at(root, 'the inventory must be a mapping with loadBalancers and vips');
  checkKeys(p, root, ['loadBalancers', 'lbGroups', 'vips', 'policy'], 'the inventory');
  const loadBalancers = new Map<string, InventoryLb>();
  for (const [name, keyNode, value] of entries(field(root, 'loadBalancers'))) {
    if (!NAME.test(name))
      p.at(keyNode, `load balancer name "${name}" must be letters, digits, dot, dash or underscore`);
    const lb = loadLb(p, name, value);
    if (lb) loadBalancers.set(name, lb);
  }
  const groups = loadLbGroups(p, field(root, 'lbGroups'), loadBalancers);
  const vips = new Map<string, InventoryVip>();
  for (const [name, keyNode, value] of entries(field(root, 'vips'))) {
    if (!NAME.test(name)) p.at(keyNode, `VIP name "${name}" must be letters, digits, dot, dash or underscore`);
    const vip = loadVip(p, name, value, loadBalancers, groups);
    if (vip) vips.set(name, vip);
  }
  const policy = loadPolicy(p, field(root, 'policy'), vips);
  if (p.list.length > 0)
    throw new ConfigError(
      `inventory ${file} has ${p.list.length} problem${p.list.length > 1 ? 's' : ''}:\n  ${p.list.join('\n  ')}`,
    );
  return { file, loadBalancers, vips, policy };
}

export function loadInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read inventory ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'set LBCHECK_CONFIG or --config to the inventory YAML file',
    );
  }
  return parseInventory(text, file);
}
