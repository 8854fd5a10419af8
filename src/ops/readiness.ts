// What /readyz asks: each probe says whether its dependency works and, when
// not, what is wrong in words an operator can act on.
import { hostPort } from '../model/endpoint-text.js';
import { connect } from 'node:net';
import type { Inventory, InventoryLb } from '../inventory/inventory-types.js';
import { LATE, within } from '../runtime/deadline.js';

export interface ProbeResult {
  ok: boolean;
  detail?: string;
}
export type ReadinessProbe = () => Promise<ProbeResult>;

/** Runs a probe with a deadline: a dependency that hangs is as unready as one that fails. */
export async function runProbe(probe: ReadinessProbe, timeoutMs: number): Promise<ProbeResult> {
  const result = await within(
    probe().catch((err: unknown) => ({ ok: false, detail: err instanceof Error ? err.message : String(err) })),
    timeoutMs,
  );
  return result === LATE ? { ok: false, detail: `no answer within ${timeoutMs} ms` } : result;
}

/** Remembers a successful answer for `ttlMs`, so a frequent /readyz does not hit a remote service each time. */
export function cachedWhenOk(probe: ReadinessProbe, ttlMs: number, clock: () => number = Date.now): ReadinessProbe {
  let okUntil = 0;
  let last: ProbeResult = { ok: false };
  return async () => {
    if (clock() < okUntil) return last;
    last = await probe();
    okUntil = last.ok ? clock() + ttlMs : 0;
    return last;
  };
}

export function inventoryProbe(file: string | undefined, inventory: () => Inventory | undefined): ReadinessProbe {
  return () => {
    if (file === undefined)
      return Promise.resolve({ ok: true, detail: 'no inventory configured (LBCHECK_CONFIG): ip:port targets only' });
    const inv = inventory();
    return Promise.resolve(
      inv
        ? { ok: true, detail: `${inv.file}: ${inv.vips.size} targets, ${inv.loadBalancers.size} load balancers` }
        : { ok: false, detail: `the inventory ${file} is not loaded` },
    );
  };
}

/** The LBs whose VIPs this zone's workers probe: the LB's zone, or a VIP's own zone naming it. */
export function lbsOfZone(inv: Inventory, zone: string): InventoryLb[] {
  const names = new Set<string>();
  for (const lb of inv.loadBalancers.values()) if ((lb.zone ?? 'default') === zone) names.add(lb.name);
  for (const vip of inv.vips.values()) if (vip.lb && vip.zone === zone) names.add(vip.lb);
  return [...names].flatMap((n) => inv.loadBalancers.get(n) ?? []);
}

/** Connects to host:port and waits for an SSH identification line ("SSH-2.0-..."). */
export function sshBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let seen = '';
    const done = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve(seen.split('\n')[0]?.trim() ?? '');
    };
    socket.setTimeout(timeoutMs, () =>
      done(new Error(`no SSH banner from ${hostPort(host, port)} within ${timeoutMs} ms`)),
    );
    socket.on('error', (err) => done(err));
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (/^SSH-/m.test(seen) && seen.includes('\n')) done();
      else if (seen.length > 4096) done(new Error(`${hostPort(host, port)} does not speak SSH`));
    });
  });
}

/** A worker is ready when the sshd of at least one LB of its zone answers (or its zone has none). */
export function sshProbe(zone: string, inventory: () => Inventory | undefined, timeoutMs = 1500): ReadinessProbe {
  return async () => {
    const inv = inventory();
    const lbs = inv ? lbsOfZone(inv, zone) : [];
    if (lbs.length === 0) return { ok: true, detail: `no load balancer of zone ${zone} in the inventory` };
    // In parallel: one LB that answers is enough, and a dead one must not hold /readyz for its timeout each.
    const problems: string[] = [];
    const answered = await Promise.any(
      lbs.map((lb) =>
        sshBanner(lb.ssh.host, lb.ssh.port, timeoutMs).then(
          () => lb,
          (err: unknown) => {
            problems.push(`${lb.name}: ${err instanceof Error ? err.message : String(err)}`);
            throw err;
          },
        ),
      ),
    ).catch(() => undefined);
    if (answered)
      return { ok: true, detail: `${answered.name} (${hostPort(answered.ssh.host, answered.ssh.port)}) answers SSH` };
    return { ok: false, detail: `no LB of zone ${zone} answers SSH: ${problems.join('; ')}` };
  };
}
