// Which job seals have been used: a sealed job runs once. Shared by every
// worker through Redis (one atomic script per job), with an in-process twin
// for the embedded mode; both follow one contract
// (test/pipeline/seen-seals-contract.test.ts).
import type { RedisClient } from '../runtime/redis-client.js';
import { ExpiringMap } from './expiring-map.js';

export interface SeenSeals {
  /**
   * True when the nonce is new (it is now held by `holder` for ttlMs) or already held by this same holder (the
   * queue running the same job again: a retry, a worker lost mid-run); false when another job used it.
   */
  claim(nonce: string, holder: string, ttlMs: number): Promise<boolean>;
}

/** Set if absent, or the same holder already has it; one script, so two workers cannot both win. */
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if held == ARGV[1] then return 1 end
return 0`;

export class RedisSeenSeals implements SeenSeals {
  /** prefix: the deployment's key prefix (its {hash tag} on a cluster). */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async claim(nonce: string, holder: string, ttlMs: number): Promise<boolean> {
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return (await this.redis.eval(CLAIM, 1, `${this.prefix}:seal:${nonce}`, holder, ttl)) === 1;
  }
}

export class MemorySeenSeals implements SeenSeals {
  private readonly held: ExpiringMap<string>;

  constructor(now: () => number = Date.now) {
    this.held = new ExpiringMap(now);
  }

  claim(nonce: string, holder: string, ttlMs: number): Promise<boolean> {
    const current = this.held.get(nonce);
    if (current === undefined) this.held.set(nonce, holder, Math.max(1, Math.ceil(ttlMs)));
    return Promise.resolve(current === undefined || current === holder);
  }
}
