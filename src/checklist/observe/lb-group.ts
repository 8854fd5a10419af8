// The I/O for a VIP served by an HA group: one SSH session per node, opened at
// once; on each, the capture for step 1 and `ip -o addr` (who holds the VIP),
// both started before the probe connects. A node that cannot be reached is
// recorded (the others still decide); only a group with no reachable node
// fails the check, as a single unreachable LB does.
import type { RemoteCapture } from '../../capture/remote-capture.js';
import type { SshSession } from '../../remote/ssh-session.js';
import { readVipOwnership } from '../../remote/vip-owner.js';
import type { CheckTarget } from '../../target/check-target.js';
import type { LbAccess } from '../../remote/lb-access.js';
import type { NodeReach } from '../observation.js';
import { startLbCapture, type GroupCaptures } from './observe-reach.js';

export interface GroupNode {
  access: LbAccess;
  session?: SshSession;
  capture?: RemoteCapture;
  ownership: Promise<{ ownsVip: boolean } | { error: string }>;
  error?: string;
  /** The error itself, so a group where no node could capture fails as a single LB would. */
  failure?: Error;
}

export interface OpenedNode {
  access: LbAccess;
  session?: SshSession;
  error?: string;
  failure?: Error;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
const messageOf = (err: unknown): string => asError(err).message;

/** Opens a session to every node (rejecting only when none answers). */
export async function openGroup(nodes: LbAccess[], open: (lb: LbAccess) => Promise<SshSession>): Promise<OpenedNode[]> {
  const settled = await Promise.allSettled(nodes.map((n) => open(n)));
  const first = settled[0];
  if (settled.every((s) => s.status === 'rejected') && first?.status === 'rejected') throw first.reason;
  return settled.map((s, i) => {
    const access = nodes[i] as LbAccess;
    return s.status === 'fulfilled'
      ? { access, session: s.value }
      : { access, error: messageOf(s.reason), failure: asError(s.reason) };
  });
}

/** Starts the capture and the VIP-ownership read on every node that has a session. */
export async function startGroupCaptures(
  opened: OpenedNode[],
  target: CheckTarget,
  sourcePort: number,
  boundSeconds: number,
): Promise<GroupNode[]> {
  return Promise.all(
    opened.map(async ({ access, session, error, failure }): Promise<GroupNode> => {
      if (!session) {
        const why = error ?? 'no SSH session';
        return { access, ownership: Promise.resolve({ error: why }), error: why, ...(failure ? { failure } : {}) };
      }
      const ownership = readVipOwnership(session, target.vip).catch((e: unknown) => ({ error: messageOf(e) }));
      try {
        const capture = await startLbCapture(session, access, target, sourcePort, boundSeconds);
        return { access, session, capture, ownership };
      } catch (e) {
        return { access, session, ownership, error: messageOf(e), failure: asError(e) };
      }
    }),
  );
}

/**
 * The node that handled the probe: the VIP's holder among those that saw the SYN, else the first that saw it,
 * else the holder, else the first node with a capture.
 */
export function groupCaptures(nodes: GroupNode[]): GroupCaptures {
  return {
    captures: nodes.map((n) => n.capture),
    chooseHandler: async (sawSyn) => {
      const owns = await Promise.all(nodes.map(ownsVip));
      const candidates = [
        sawSyn.findIndex((s, i) => s && owns[i]),
        sawSyn.indexOf(true),
        owns.indexOf(true),
        nodes.findIndex((n) => n.capture !== undefined),
      ];
      return candidates.find((i) => i >= 0) ?? 0;
    },
  };
}

async function ownsVip(n: GroupNode): Promise<boolean> {
  const o = await n.ownership;
  return 'ownsVip' in o && o.ownsVip;
}

/** What step 1 records per node. */
export async function nodeObservations(
  nodes: GroupNode[],
  views: (NodeReach['lb'] | undefined)[],
): Promise<NodeReach[]> {
  return Promise.all(
    nodes.map(async (n, i) => {
      const o = await n.ownership;
      const error = n.error ?? ('error' in o ? o.error : undefined);
      return {
        label: n.access.label,
        lb: views[i] ?? null,
        ownsVip: 'ownsVip' in o ? o.ownsVip : null,
        ...(error ? { error } : {}),
      };
    }),
  );
}
