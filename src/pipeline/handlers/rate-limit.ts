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
  // More zones than the cap allows at all: waiting would not help, whatever is in flight.
  if (slots > inFlightPerTarget)
    return refuse(
      `--from asks for ${slots} checks of ${name} at once, more than the ${inFlightPerTarget} the policy allows ` +
        `in flight per target (limits.inFlightPerTarget); name fewer zones`,
    );
  if (flying + slots > inFlightPerTarget) {
    const are = flying === 1 ? '1 check of ' + name + ' is' : `${flying} checks of ${name} are`;
    return refuse(
      `${are} already queued or running (see ${deps.prefix} status); wait for ${flying === 1 ? 'it' : 'them'} ` +
        `or cancel one`,
    );
  }
  return undefined;
}
