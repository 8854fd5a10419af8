// What a long-lived process (a worker) learned of each target's proxy kind
// from its last check. Step 2 waits up to PROXY_CONNECT_WAIT_MS after the
// handshake for a TCP proxy's own server connection, and every HTTP-proxy
// check pays all of it (an HTTP proxy connects only after reading the
// request). When this process's last check of the same VIP through the same
// LB proved an HTTP proxy, that wait is skipped. If the LB has changed into a
// TCP proxy since, the check can only lose the kind's label, never name a
// wrong one: the kind then comes from the request (a TCP proxy passes it on
// unchanged, so the kind is left open) and that check's result makes the next
// one wait again.
import type { ModeStep } from '../../model/report.js';
import type { ResolvedTarget } from '../../target/check-target.js';

/** Enough for every VIP a worker serves; past it the oldest entry goes (a map keeps insertion order). */
const MAX_TARGETS = 4096;

export class ProxyKindMemory {
  private readonly httpProxies = new Set<string>();

  /** Whether this process's last check of the target proved an HTTP proxy. */
  knownHttpProxy(target: ResolvedTarget): boolean {
    const key = keyOf(target);
    return key !== undefined && this.httpProxies.has(key);
  }

  /** Remembers what step 2 decided; anything but a proved HTTP proxy makes the next check wait again. */
  learn(target: ResolvedTarget, step: ModeStep): void {
    const key = keyOf(target);
    if (key === undefined) return;
    this.httpProxies.delete(key);
    if (step.mode !== 'L7' || step.proxyKind !== 'http') return;
    this.httpProxies.add(key);
    if (this.httpProxies.size > MAX_TARGETS) {
      const oldest = this.httpProxies.values().next().value;
      if (oldest !== undefined) this.httpProxies.delete(oldest);
    }
  }
}

/** The LB's SSH endpoint and the VIP; none for an HA group (which node handles the next probe is not known). */
function keyOf(t: ResolvedTarget): string | undefined {
  if (!t.lb || (t.lbNodes && t.lbNodes.length > 1)) return undefined;
  return JSON.stringify([t.lb.host, t.lb.port, t.lb.user, t.vip, t.port, t.tls, t.sni ?? null]);
}
