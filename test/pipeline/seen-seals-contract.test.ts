// One contract for where used job seals are remembered, run against both
// twins: Redis (shared by every worker; one atomic script) and the in-process
// map. A nonce is taken once; the same queued job may run again (its holder),
// another job may not; it is forgotten only after its time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { MemorySeenSeals, RedisSeenSeals, type SeenSeals } from '../../src/pipeline/seen-seals.js';
import type { RedisClient } from '../../src/runtime/redis-client.js';
import { sleep, uniquePrefix } from './contract-fixtures.js';
import { deleteKeys, testRedis } from './harness.js';

const prefixes: string[] = [];
const clients: RedisClient[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const p of prefixes) await deleteKeys(p);
});

const twins: { name: string; make(): SeenSeals }[] = [
  { name: 'MemorySeenSeals', make: () => new MemorySeenSeals() },
  {
    name: 'RedisSeenSeals',
    make: () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const client = testRedis({ maxRetriesPerRequest: null });
      clients.push(client);
      return new RedisSeenSeals(client, prefix);
    },
  },
];

const nonce = (): string => randomBytes(16).toString('base64url');

for (const twin of twins) {
  describe(`SeenSeals contract: ${twin.name}`, () => {
    it('a nonce is taken by the first job; the same job again is let through; another job is refused', async () => {
      const seen = twin.make();
      const n = nonce();
      assert.equal(await seen.claim(n, 'chk-a@1', 60_000), true);
      assert.equal(await seen.claim(n, 'chk-a@1', 60_000), true);
      assert.equal(await seen.claim(n, 'chk-b@2', 60_000), false);
      assert.equal(await seen.claim(n, 'chk-a@3', 60_000), false);
      assert.equal(await seen.claim(nonce(), 'chk-b@2', 60_000), true);
    });

    it('of many jobs claiming one nonce at the same instant, exactly one wins', async () => {
      const seen = twin.make();
      const n = nonce();
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => seen.claim(n, `chk-${i}@1`, 60_000)));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    it('a nonce is forgotten after its time (then its seal is stale anyway)', async () => {
      const seen = twin.make();
      const n = nonce();
      assert.equal(await seen.claim(n, 'chk-a@1', 150), true);
      assert.equal(await seen.claim(n, 'chk-b@2', 150), false);
      await sleep(400);
      assert.equal(await seen.claim(n, 'chk-b@2', 150), true);
    });
  });
}
