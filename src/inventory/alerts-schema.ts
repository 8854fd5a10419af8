// The inventory's "alerts:" section: which alert labels name a VIP, which channel each VIP's alerts go to, and
// how often one alert group may start a check. The webhook receiver (src/alerts) reads it; without the section
// alerts are answered "not routed" and start nothing.
import { isSeq, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { compact, flag, text } from './schema-fields.js';
import { entries, field, scalar, type Problems } from './yaml-helpers.js';

const LABEL = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const LABEL_TEXT = 'a label name (letters, digits, _; not starting with a digit)';
/** platform:channel, as the policy names channels: slack:C0123, teams:19:abc@thread.tacv2, console:console. */
const CHANNEL = /^(slack|teams|console):[^\s]{1,200}$/;

function whole(field: string, min: number, max: number) {
  const expected = `${field} must be a whole number from ${min} to ${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

const routeSchema = z
  .strictObject({
    targets: z
      .array(text())
      .nullish()
      .describe('inventory VIP names or globs (web-*) whose alerts this route takes; omit: any'),
    labels: z
      .record(z.string(), text())
      .nullish()
      .describe('labels the alert must carry with exactly these values (team: payments); omit: any'),
    channel: text(CHANNEL, 'platform:channel (slack:C0123, teams:<conversation id>, console:console)').describe(
      'where the check is posted: a new thread per alert group',
    ),
    serviceUrl: text(/^https:\/\/[^\s]+$/, 'an https URL')
      .nullish()
      .describe("teams: the Bot Connector service URL of the channel's tenant (as in its conversation reference)"),
  })
  .superRefine(
    (r, ctx) => {
      if (r.channel.startsWith('teams:') && !r.serviceUrl)
        ctx.addIssue({ code: 'custom', message: 'a teams: channel needs serviceUrl (Teams posts need it)' });
    },
    { when: () => true },
  )
  .transform((r) => compact(r));

export const alertsSchema = z
  .strictObject({
    targetLabels: z
      .array(text(LABEL, LABEL_TEXT))
      .nullish()
      .describe('labels whose value names an inventory VIP, first present wins (default [lbcheck_target])'),
    labelTargets: z
      .record(z.string(), z.record(z.string(), text()))
      .nullish()
      .describe('label: { value: VIP }, for alerts whose labels name a service, not a VIP (service: {shop: web})'),
    routes: z.array(routeSchema).nullish().describe('where alerts of which VIPs are posted; the first match wins'),
    checkEverySeconds: whole('checkEverySeconds', 10, 86_400)
      .nullish()
      .describe("one check per alert group and VIP per this many seconds (set it to Alertmanager's group_interval)"),
    maxChecksPerMinute: whole('maxChecksPerMinute', 1, 1000)
      .nullish()
      .describe('per channel: more alerts in a minute are collapsed into one line, not checked (default 5)'),
    recheckOnResolve: flag('recheckOnResolve')
      .nullish()
      .describe('when the alert resolves, check again in the same thread to confirm (default false)'),
  })
  .transform((a) => ({
    targetLabels: a.targetLabels ?? ['lbcheck_target'],
    labelTargets: a.labelTargets ?? {},
    routes: a.routes ?? [],
    checkEverySeconds: a.checkEverySeconds ?? 300,
    maxChecksPerMinute: a.maxChecksPerMinute ?? 5,
    recheckOnResolve: a.recheckOnResolve ?? false,
  }));

export type AlertsConfig = z.output<typeof alertsSchema>;
export type AlertRoute = AlertsConfig['routes'][number];

/**
 * What the schema cannot see: the VIPs the section names must be in the same file (a route naming no VIP, or a
 * label mapped to a typo, would leave alerts unrouted without a word until one fires).
 */
export function alertsNameProblems(doc: Document, vipNames: ReadonlySet<string>, p: Problems): void {
  const known = (name: string): boolean => vipNames.has(name);
  const labelTargets = doc.getIn(['alerts', 'labelTargets'], true);
  for (const [label, , values] of entries(labelTargets))
    for (const [value, , vip] of entries(values)) {
      const name = scalar(vip);
      if (name !== undefined && !known(name))
        p.at(vip, `alerts labelTargets ${label}: ${value} names "${name}", which is not a VIP of this file`);
    }
  const routes = doc.getIn(['alerts', 'routes'], true);
  if (!isSeq(routes)) return;
  for (const route of routes.items as Node[]) {
    const targets = field(route, 'targets');
    if (!isSeq(targets)) continue;
    for (const t of targets.items as Node[]) {
      const name = scalar(t);
      if (name !== undefined && !name.includes('*') && !known(name))
        p.at(t, `alerts route targets: "${name}" is not a VIP of this file (globs such as web-* are allowed)`);
    }
  }
}
