// Per-user and per-channel rate limits (shared through the state store) and the in-flight cap per target.
import { refusalText } from '../../policy/authorize.js';
import type { IntakeReply } from '../intake-types.js';
import { targetName, type CommandContext } from './command-context.js';

export async function rateLimited(
  ctx: CommandContext,
  target: string,
  /** Checks this command queues: a --from command takes one in-flight slot per zone. */
  slots = 1,
): Promise<IntakeReply | undefined> {
  const { incoming, deps, policy } = ctx;
  const who = `${incoming.requester.platform}:${incoming.requester.id}`;
  const where = `${incoming.replyTo.platform}:${incoming.replyTo.channel}`;
  const refuse = (reason: string): IntakeReply => {
    deps.log.log('info', 'refused by rate limit', { user: who, channel: where, reason });
    return { kind: 'refused', text: refusalText(policy, { allowed: false, reason }) };
  };
  const { perUserPerMinute, perChannelPerMinute, inFlightPerTarget } = policy.limits;
  if ((await deps.state.hit(`user:${who}`, 60)) > perUserPerMinute)
    return refuse(`you reached the limit of ${perUserPerMinute} checks per minute; try again in a minute`);
  if ((await deps.state.hit(`channel:${where}`, 60)) > perChannelPerMinute)
    return refuse(`this channel reached the limit of ${perChannelPerMinute} checks per minute; try again in a minute`);
  const name = targetName(ctx, target);
  const flying = await deps.state.inFlightCount(name);
  if (flying + slots > inFlightPerTarget) {
    return refuse(
      `${flying} checks of ${name} are already queued or running (see ${deps.prefix} status); wait for them or ` +
        `cancel one`,
    );
  }
  return undefined;
}
