// The inventory's schema: every field, its type and its checks, in one place.
// Adding a field is one line in lbFields or vipFields (its type follows from
// the schema). The same schema is exported as JSON Schema for editors
// (docs/inventory.schema.json); load-inventory.ts turns its issues into
// messages with line numbers and checks what refers across sections.
import { z } from 'zod';
import { ZONE } from '../model/ids.js';
import { policySchema } from '../policy/policy-schema.js';
import { alertsSchema } from './alerts-schema.js';
import { parseFingerprint } from '../remote/host-keys.js';
import { parseEndpoint, parseHost, parsePort, parseSshUrl } from '../target/endpoint.js';
import { parseHttpPath, parseLbView, parseStatusRange } from './health-check.js';
import { compact, flag, OWNED, OWNED_COLON, parsed, scalarText, text } from './schema-fields.js';

export const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const ZONE_TEXT = 'a short name of letters, digits, _ and - (it names the queue checks-<zone>, so no ":")';
// A host name (what TLS's server_name carries): no spaces, no control characters, nothing that could end a
// header line.
const SNI = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;

/** A pinned fingerprint; an empty one is an error, never a fall back to ~/.ssh/known_hosts. */
const fingerprint = z.union([z.string(), z.null()]).transform((value, ctx): string => {
  if (value === null || value.trim() === '') {
    ctx.addIssue({
      code: 'custom',
      message: "hostKey is empty; give SHA256:... (ssh-keygen -lf on the LB's host key) or knownHosts: FILE",
      params: OWNED_COLON,
    });
    return z.NEVER;
  }
  try {
    return parseFingerprint(value, 'hostKey');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message, params: OWNED });
    return z.NEVER;
  }
});

const lbFields = {
  ssh: parsed((t) => parseSshUrl(t, 'ssh')).describe('ssh://user@host[:port] (port 22 by default)'),
  identity: text().describe('the path of the SSH private key (it stays on the worker)'),
  hostKey: fingerprint.optional().describe("pinned host key fingerprint SHA256:... (ssh-keygen -lf on the LB's key)"),
  hostKeys: z.array(fingerprint).nullish().describe('several pinned fingerprints (key rotation)'),
  knownHosts: text().nullish().describe('a known_hosts file to match the LB against (OpenSSH patterns, @revoked)'),
  captureInterface: text(/^[a-zA-Z0-9_.:@-]{1,15}$/, 'an interface name')
    .nullish()
    .describe('the LB interface tcpdump listens on (default any: client and server side)'),
  zone: text(ZONE, ZONE_TEXT).nullish().describe('which workers probe its VIPs'),
  warmChannels: z
    .number({ error: (iss) => `warmChannels must be a whole number 0-8, not ${JSON.stringify(iss.input)}` })
    .int({ error: 'warmChannels must be a whole number 0-8' })
    .min(0, { error: 'warmChannels must be a whole number 0-8' })
    .max(8, { error: 'warmChannels must be a whole number 0-8' })
    .nullish()
    .describe(
      'login shells kept waiting for the next command (default 3); 0 when a forced command in authorized_keys ' +
        'vets SSH_ORIGINAL_COMMAND (each command then opens its own channel and pays the login shell)',
    ),
  sudo: flag('sudo')
    .nullish()
    .describe(
      'the account is not root: the capture and the LB view run through sudo -n (helpers from `lbcheck sudoers`)',
    ),
};

const lbViewSchema = z
  .strictObject({
    kind: text().describe('haproxy, iptables or nginx'),
    socket: text().nullish().describe('haproxy: the absolute path of its stats socket'),
    backend: text().nullish().describe("haproxy: the VIP's backend"),
    config: text().nullish().describe('nginx: the configuration file (default /etc/nginx/nginx.conf)'),
  })
  .transform((view, ctx) => {
    try {
      return parseLbView(compact(view));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const vipFields = {
  address: parsed((t) => parseHost(t, 'address').host, true).describe('the VIP address'),
  port: parsed((t) => parsePort(t, 'port'), true).describe('the VIP port'),
  protocol: z
    .enum(['http', 'tcp'], { error: (iss) => `protocol must be http or tcp, not ${JSON.stringify(iss.input)}` })
    .nullish()
    .describe('http (default) or tcp'),
  tls: flag('tls').nullish().describe('TLS VIP (port 443 implies it unless tls: false)'),
  sni: text(SNI, 'a host name (letters, digits, dot, dash, underscore)').nullish().describe('TLS server name'),
  caFile: text()
    .nullish()
    .describe("TLS: a PEM bundle of the CAs this VIP's clients trust (default: the system's CA store)"),
  // Names are checked against loadBalancers and lbGroups by lb-groups.ts (with their lines), not here.
  lb: z
    .union([scalarText, z.array(scalarText)], { error: 'lb must be a load balancer name or a list of names' })
    .nullish()
    .describe(
      'the load balancer (a name under loadBalancers), an HA group as a list of them (the one expected to hold ' +
        'the VIP first), or a name under lbGroups',
    ),
  members: z
    .array(
      parsed((t) => parseEndpoint(t, 'member')).transform(({ host, port }) => ({ host, port })),
      { error: 'members must be a list of host:port' },
    )
    .nullish()
    .describe('pool members, host:port'),
  zone: text(ZONE, ZONE_TEXT).nullish().describe("which workers probe it (default: its LB's zone)"),
  zones: z
    .array(text(ZONE, ZONE_TEXT), { error: 'zones must be a list of zone names' })
    .nullish()
    .describe('more zones whose workers can probe it too, for --from (multi-vantage checks)'),
  httpPath: parsed(parseHttpPath).nullish().describe('what step 2 and the member probes request (default /)'),
  expectStatus: parsed(parseStatusRange).nullish().describe('healthy statuses for httpPath (default 200-399)'),
  lbView: lbViewSchema.nullish().describe("where to read the LB's own view of the pool"),
};

const lbSchema = z
  .strictObject(lbFields)
  .superRefine(
    (lb, ctx) => {
      if (lb.hostKey === undefined && lb.hostKeys === undefined && !lb.knownHosts)
        ctx.addIssue({
          code: 'custom',
          message: 'needs a pinned host key: hostKey: SHA256:... or knownHosts: FILE',
          params: OWNED,
        });
    },
    // Also when another field is wrong: every problem is reported at once.
    { when: () => true },
  )
  .transform(({ hostKey, hostKeys, captureInterface, ...rest }) => ({
    ...compact(rest),
    hostKeys: [...(hostKey ? [hostKey] : []), ...(hostKeys ?? [])],
    captureInterface: captureInterface ?? 'any',
  }));

const vipSchema = z.strictObject(vipFields).transform(({ protocol, tls, members, ...rest }) => ({
  ...compact(rest),
  protocol: protocol ?? 'http',
  tls: tls === true || (rest.port === 443 && tls !== false),
  members: members ?? [],
}));

/** A mapping of names to entries; a bad name is reported beside the entry's own problems. */
function named<T extends z.ZodType>(entry: T, what: string) {
  return z.record(z.string(), entry).superRefine(
    (entries, ctx) => {
      for (const name of Object.keys(entries))
        if (!NAME.test(name))
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `${what} name "${name}" must be letters, digits, dot, dash or underscore`,
            params: { key: true },
          });
    },
    { when: () => true },
  );
}

export const inventorySchema = z.strictObject(
  {
    loadBalancers: named(lbSchema, 'load balancer').nullish().describe('load balancers lbcheck may SSH into'),
    lbGroups: z
      .record(z.string(), z.unknown())
      .nullish()
      .describe(
        'HA groups of load balancers: name: [lb, lb] (the one expected to hold the VIP first), or name: { nodes: ' +
          '[lb, lb], activeActive: true } when every node holds the VIP by design',
      ),
    vips: named(vipSchema, 'VIP').nullish().describe('named VIPs with their pool members'),
    policy: policySchema.nullish().describe('who may check what (default deny for chat platforms)'),
    alerts: alertsSchema.nullish().describe('checks that alerts start: which labels name a VIP, where they post'),
  },
  {
    error: (iss) =>
      iss.code === 'invalid_type' ? 'the inventory must be a mapping with loadBalancers and vips' : undefined,
  },
);

export type InventoryLbFields = z.output<typeof lbSchema>;
export type InventoryVipFields = z.output<typeof vipSchema>;

/** The JSON Schema editors use for completion (yaml-language-server); shipped as docs/inventory.schema.json. */
export function inventoryJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' }),
    title: 'lbcheck inventory',
  };
}
