// Which zones' workers probe a target: one zone for a plain check, several
// for `--from` (issue 17 item 4). A VIP is served by its own zone (or its
// LB's), the zones its inventory entry lists under `zones`, and the zones of
// its HA group's nodes; a zone outside that set has no business probing it.
import type { VantageChoice } from '../commands/grammar.js';
import { InputError } from '../errors.js';
import type { Inventory } from '../inventory/inventory-types.js';

/** The zone whose workers probe a target when no --from is given. */
export function zoneFor(target: string, inventory: Inventory | undefined): string {
  const vip = inventory?.vips.get(target);
  const lb = vip?.lb ? inventory?.loadBalancers.get(vip.lb) : undefined;
  return vip?.zone ?? lb?.zone ?? 'default';
}

/** Every zone serving an inventory VIP, its own zone first. */
export function zonesServing(target: string, inventory: Inventory | undefined): string[] {
  const vip = inventory?.vips.get(target);
  const nodes = (vip?.lbNodes ?? []).map((n) => inventory?.loadBalancers.get(n)?.zone);
  const zones = [zoneFor(target, inventory), ...(vip?.zones ?? []), ...nodes];
  return [...new Set(zones.filter((z): z is string => z !== undefined))];
}

/** Every zone the inventory names anywhere (for targets typed as ip:port, which no entry serves). */
function knownZones(inventory: Inventory | undefined): string[] {
  const zones = ['default'];
  for (const lb of inventory?.loadBalancers.values() ?? []) if (lb.zone) zones.push(lb.zone);
  for (const vip of inventory?.vips.values() ?? []) zones.push(...(vip.zone ? [vip.zone] : []), ...(vip.zones ?? []));
  return [...new Set(zones)];
}

/**
 * The zones a `--from` asks for, checked: an inventory VIP only from zones serving it, an ip:port target only
 * from zones the inventory knows (and never "all", which would mean every zone of the estate).
 */
export function vantageZones(from: VantageChoice, target: string, inventory: Inventory | undefined): string[] {
  const named = inventory?.vips.has(target) === true;
  if (!named) {
    if (from === 'all')
      throw new InputError(
        `--from all needs an inventory VIP (its entry says which zones serve it); ${target} is not one`,
        'name the zones instead: --from dc1,dc2',
      );
    const known = knownZones(inventory);
    const unknown = from.filter((z) => !known.includes(z));
    if (unknown.length > 0)
      throw new InputError(
        `unknown zone${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`,
        `zones in the inventory: ${known.join(', ')}`,
      );
    return from;
  }
  const serving = zonesServing(target, inventory);
  if (from === 'all') return serving;
  const outside = from.filter((z) => !serving.includes(z));
  if (outside.length > 0) {
    const unknown = outside.filter((z) => !knownZones(inventory).includes(z));
    throw new InputError(
      unknown.length > 0
        ? `unknown zone${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`
        : `${outside.join(', ')} ${outside.length > 1 ? 'do' : 'does'} not serve ${target}`,
      `zones serving ${target}: ${serving.join(', ')} (its inventory entry's zone, zones and LB nodes); use ` +
        `--from all or some of them`,
    );
  }
  return from;
}
