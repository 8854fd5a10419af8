// Slack slash commands do not say which user groups the caller is in, so the
// groups the policy names are looked up (usergroups.users.list) and cached
// briefly; only groups the policy mentions are ever asked about.
import type { WebClient } from '@slack/web-api';
import type { Policy } from '../../src/policy/policy-types.js';

const TTL_MS = 60_000;

export class SlackGroupResolver {
  private readonly cache = new Map<string, { members: Set<string>; until: number }>();

  constructor(private readonly client: WebClient) {}

  private async members(group: string): Promise<Set<string>> {
    const hit = this.cache.get(group);
    if (hit && hit.until > Date.now()) return hit.members;
    const r = await this.client.usergroups.users.list({ usergroup: group });
    const members = new Set(r.users ?? []);
    this.cache.set(group, { members, until: Date.now() + TTL_MS });
    return members;
  }

  /** The policy's Slack groups that this user is in. A lookup failure counts as "not in the group". */
  async groupsOf(user: string, policy: Policy | undefined): Promise<string[]> {
    const named = new Set(
      (policy?.rules ?? [])
        .flatMap((r) => r.groups)
        .filter((g) => g.startsWith('slack:'))
        .map((g) => g.slice('slack:'.length)),
    );
    const found = await Promise.all(
      [...named].map(async (g) => ((await this.members(g).catch(() => new Set<string>())).has(user) ? g : undefined)),
    );
    return found.filter((g): g is string => g !== undefined);
  }
}
