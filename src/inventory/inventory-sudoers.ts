// What each LB account that logs in with `sudo: true` may run as root: the
// capture on its LBs' interfaces and the view of each VIP those LBs serve
// (HAProxy socket, nginx config, iptables), as the grants written into the
// helpers of `lbcheck sudoers`' install script. Pure; installed by the LB owners.
import type { LbAccessInstall } from '../remote/sudo.js';
import type { Inventory, InventoryVip } from './inventory-types.js';

const servedBy = (vip: InventoryVip, lb: string): boolean => vip.lb === lb || (vip.lbNodes ?? []).includes(lb);

export function sudoersForInventory(inv: Inventory): LbAccessInstall[] {
  const byUser = new Map<string, string[]>();
  for (const lb of inv.loadBalancers.values()) {
    if (lb.sudo) byUser.set(lb.ssh.user, [...(byUser.get(lb.ssh.user) ?? []), lb.name]);
  }
  return [...byUser.entries()].map(([user, names]) => {
    const vips = [...inv.vips.values()].filter((v) => names.some((n) => servedBy(v, n)));
    const views = vips.flatMap((v) => (v.lbView ? [v.lbView] : []));
    const uniq = (xs: string[]): string[] => [...new Set(xs)].sort();
    return {
      user,
      loadBalancers: names,
      grants: {
        captureInterfaces: uniq(names.map((n) => inv.loadBalancers.get(n)?.captureInterface ?? 'any')),
        haproxySockets: uniq(views.flatMap((v) => (v.kind === 'haproxy' ? [v.socket] : []))),
        nginxConfigs: uniq(views.flatMap((v) => (v.kind === 'nginx' ? [v.config ?? ''] : []))),
        iptables: views.some((v) => v.kind === 'iptables'),
      },
    };
  });
}
