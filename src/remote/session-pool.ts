// Warm, pinned SSH sessions per load balancer, shared by every check a worker
// runs: a check pays a channel open (milliseconds), not a handshake, and its
// commands find login shells already started (warm-channels.ts).
import { createHash } from 'node:crypto';
import type { LbAccess } from './lb-access.js';
import { SshSession } from './ssh-session.js';

export class SessionPool {
  private readonly sessions = new Map<string, Promise<SshSession>>();
  /** What each key's connection is, for the lbcheck_ssh_sessions gauge (by the LB's label). */
  private readonly known = new Map<string, { lb: string; session?: SshSession }>();

  /**
   * What a session was opened with: a check asking for another key, other pins, sudo or no warm channels gets a
   * session of its own (an authorized key's options, such as a forced command, may differ per key).
   */
  private key(lb: LbAccess): string {
    const pins = [...lb.pins.fingerprints].sort().join(',');
    const identity = createHash('sha256').update(lb.privateKey).digest('hex').slice(0, 16);
    return `${lb.user}@${lb.host}:${lb.port}#${pins}#${identity}${lb.sudo ? '#sudo' : ''}#w${lb.warmChannels ?? ''}`;
  }

  async get(lb: LbAccess): Promise<SshSession> {
    const key = this.key(lb);
    const existing = this.sessions.get(key);
    if (existing) {
      const s = await existing.catch(() => undefined);
      if (s?.alive) {
        // Its warm channels may have been retired while the pool sat idle: their shells start now, with the check.
        s.prewarm();
        return s;
      }
      this.sessions.delete(key);
    }
    const opening = SshSession.open(lb);
    this.sessions.set(key, opening);
    this.known.set(key, { lb: lb.label });
    opening.then(
      (session) => this.known.set(key, { lb: lb.label, session }),
      () => {
        this.sessions.delete(key);
        this.known.delete(key);
      },
    );
    return opening;
  }

  /** Every connection this pool holds or is opening, by LB. */
  snapshot(): { lb: string; state: 'opening' | 'open' | 'closed' }[] {
    return [...this.known.values()].map(({ lb, session }) => ({
      lb,
      state: !session ? 'opening' : session.alive ? 'open' : 'closed',
    }));
  }

  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.known.clear();
    for (const p of all) (await p.catch(() => undefined))?.close();
  }
}
