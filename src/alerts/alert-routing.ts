// Which VIP an alert names and where its check is posted: pure, from the inventory's alerts section.
import type { AlertRoute, AlertsConfig } from '../inventory/alerts-schema.js';
import type { InventoryVip } from '../inventory/inventory-types.js';
import type { ReplyTo } from '../model/jobs.js';
import type { IncomingAlert } from './alert-payload.js';

/** The alerts of one notice that name one VIP and go to one channel. */
export interface RoutedTarget {
  target: string;
  replyTo: ReplyTo;
  alerts: IncomingAlert[];
}

export interface Unrouted {
  alert: string;
  why: string;
}

function glob(pattern: string, name: string): boolean {
  const parts = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(name);
}

/** The VIP name an alert names, or why it names none. */
export function alertTarget(alert: IncomingAlert, config: AlertsConfig): string | { why: string } {
  if (alert.target !== undefined) return alert.target;
  for (const label of config.targetLabels) {
    const value = alert.labels[label];
    if (value !== undefined && value !== '') return value;
  }
  for (const [label, values] of Object.entries(config.labelTargets)) {
    const mapped = alert.labels[label] !== undefined ? values[alert.labels[label]] : undefined;
    if (mapped !== undefined) return mapped;
  }
  const mapped = Object.keys(config.labelTargets);
  return {
    why:
      `no label names a VIP (looked for ${config.targetLabels.join(', ')}` +
      `${mapped.length > 0 ? ` and the mapped labels ${mapped.join(', ')}` : ''})`,
  };
}

function routeFor(target: string, alert: IncomingAlert, routes: readonly AlertRoute[]): AlertRoute | undefined {
  return routes.find(
    (r) =>
      (r.targets === undefined || r.targets.some((p) => glob(p, target))) &&
      Object.entries(r.labels ?? {}).every(([k, v]) => alert.labels[k] === v),
  );
}

/** Where a route posts: a Teams channel needs a conversation reference to post into. */
export function routeReplyTo(route: AlertRoute): ReplyTo {
  const colon = route.channel.indexOf(':');
  const platform = route.channel.slice(0, colon);
  const channel = route.channel.slice(colon + 1);
  if (platform !== 'teams') return { platform, channel };
  const reference = { serviceUrl: route.serviceUrl, channelId: 'msteams', conversation: { id: channel } };
  return { platform, channel, extra: { reference } };
}

/**
 * Groups a notice's alerts by the VIP they name and the channel their route posts to. Only inventory VIPs
 * are checked: an alert's labels are not a way to make lbcheck probe an arbitrary address.
 */
export function routeAlerts(
  alerts: readonly IncomingAlert[],
  config: AlertsConfig,
  vips: ReadonlyMap<string, InventoryVip>,
): { routed: RoutedTarget[]; unrouted: Unrouted[] } {
  const routed = new Map<string, RoutedTarget>();
  const unrouted: Unrouted[] = [];
  for (const alert of alerts) {
    const target = alertTarget(alert, config);
    if (typeof target !== 'string') {
      unrouted.push({ alert: alert.name, why: target.why });
      continue;
    }
    if (!vips.has(target)) {
      unrouted.push({ alert: alert.name, why: `"${target}" is not a VIP of the inventory` });
      continue;
    }
    const route = routeFor(target, alert, config.routes);
    if (!route) {
      unrouted.push({ alert: alert.name, why: `no route in the inventory's alerts section takes ${target}` });
      continue;
    }
    const key = `${target}\n${route.channel}`;
    const entry = routed.get(key) ?? { target, replyTo: routeReplyTo(route), alerts: [] };
    entry.alerts.push(alert);
    routed.set(key, entry);
  }
  return { routed: [...routed.values()], unrouted };
}
