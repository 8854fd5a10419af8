// Slack slash commands do not say which user groups the caller is in, so the
// groups the policy names are looked up (usergroups.users.list) and cached
// briefly; only groups the policy mentions are ever asked about.
import type { WebClient } from '@slack/web-api';
import type { Policy } from '../../src/policy/policy-types.js';
import { LATE, within } from '../../src/runtime/deadline.js';

const TTL_MS = 60_000;
/** A lookup slower than this is not waited for before the ack (Slack drops a command not acked in 3 s). */
export const GROUP_LOOKUP_TIMEOUT_MS = 1_500;

/** The policy's groups this user is in, and those Slack did not answer for in time (membership unknown). */
export interface GroupLookup {
  groups: string[];
  undecided: string[];
}

export class SlackGroupResolver {
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();
  private readonly pending = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly client: WebClient,
    private readonly timeoutMs = GROUP_LOOKUP_TIMEOUT_MS,
  ) {}

  /** A slow lookup goes on after the timeout and fills the cache, so the next command has the answer. */
  private async members(group: string): Promise<Set<string> | 'timeout'> {
    const hit = this.cache.get(group);
    if (hit && hit.until > Date.now()) return hit.members;
    let lookup = this.pending.get(group);
    if (!lookup) {
      lookup = this.client.usergroups.users.list({ usergroup: group }).then((r) => {
        const members = new Set(r.users ?? []);
        this.cache.set(group, { members, until: Date.now() + TTL_MS });
        return members;
      });
      const settled = (): void => void this.pending.delete(group);
      lookup.then(settled, settled);
      this.pending.set(group, lookup);
    }
    const members = await within(lookup, this.timeoutMs);
    return members === LATE ? 'timeout' : members;
  }

  /** The policy's Slack groups this user is in. A failed lookup means "not in the group"; a slow one, undecided. */
  async groupsOf(user: string, policy: Policy | undefined): Promise<GroupLookup> {
    const named = new Set(
      (policy?.rules ?? [])
        .flatMap((r) => r.groups)
        .filter((g) => g.startsWith('slack:'))
        .map((g) => g.slice('slack:'.length)),
    );
    const found = await Promise.all(
      [...named].map(async (g) => ({ g, m: await this.members(g).catch(() => new Set<string>()) })),
    );
    return {
      groups: found.filter(({ m }) => m !== 'timeout' && m.has(user)).map(({ g }) => g),
      undecided: found.filter(({ m }) => m === 'timeout').map(({ g }) => g),
    };
  }
}

/** What the user is told when the policy refused them and a group that might allow them could not be looked up. */
export function undecidedText(undecided: string[], timeoutMs: number): string {
  return (
    `Could not decide the lbcheck policy for you: Slack did not answer the user-group lookup ` +
    `(usergroups.users.list for ${undecided.join(', ')}) within ${(timeoutMs / 1000).toFixed(1)} s, and without ` +
    `it the policy refuses. Nothing was run. Try again in a moment (the answer is cached once it arrives); if it ` +
    `keeps happening, check the bot's network path to Slack's API.`
  );
}
