// `watch <target>`: a known target, the policy, and the limits as for one check; the watch itself is
// src/watch/watch-commands.ts.
import type { ChatCommand } from '../../commands/grammar.js';
import { startWatch } from '../../watch/watch-commands.js';
import type { IntakeReply } from '../intake-types.js';
import { checkableText, gate, targetName, type CommandContext } from './command-context.js';
import { rateLimited } from './rate-limit.js';

type WatchCommand = Extract<ChatCommand, { kind: 'watch' }>;

export async function handleWatch(cmd: WatchCommand, ctx: CommandContext): Promise<IntakeReply> {
  if (!cmd.target.includes(':') && !ctx.inventory?.vips.has(cmd.target))
    return { kind: 'refused', text: `unknown target "${cmd.target}". Known targets: ${checkableText(ctx)}` };
  const denied = gate(ctx, { action: 'check', target: cmd.target, members: [] });
  if (denied) return denied;
  // Starting a watch counts like a check; each round is counted again when it is queued.
  const limited = await rateLimited(ctx, cmd.target);
  if (limited) return limited;
  return startWatch({ ...cmd, target: targetName(ctx, cmd.target) }, ctx.incoming, ctx.deps);
}
