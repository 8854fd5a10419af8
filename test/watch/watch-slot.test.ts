// One watch per target per channel, also when two watch commands arrive in
// the same instant (two bot processes on one Redis): exactly one starts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import { RedisState } from '../../src/pipeline/redis-state.js';
import { cancelWatch, startWatch, type WatchDeps } from '../../src/watch/watch-commands.js';
import { uniquePrefix } from '../pipeline/contract-fixtures.js';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';

const prefix = uniquePrefix();
const clients = [new Redis(TEST_REDIS), new Redis(TEST_REDIS)];
const buses = [new MemoryBus(), new MemoryBus()];
after(async () => {
  for (const b of buses) await b.close();
  for (const c of clients) c.disconnect();
  await deleteKeys(prefix);
});

// Two bot processes: their own connections and queues, one Redis.
const bots: WatchDeps[] = clients.map((c, i) => ({
  state: new RedisState(c, prefix),
  bus: buses[i] as MemoryBus,
  log: createLogger('silent'),
  prefix: '/lbcheck',
}));
const asker = {
  requester: { platform: 'slack', id: 'UONCALL' },
  replyTo: { platform: 'slack', channel: 'CINCIDENT' },
};
const cmd = { target: 'web-vip', everyMs: 30_000, forMs: 600_000 };

describe('watch slots', () => {
  it('of two watch commands at the same instant on two bot processes, exactly one starts', async () => {
    for (let round = 0; round < 5; round++) {
      const target = `web-vip-${round}`;
      const answers = await Promise.all(bots.map((deps) => startWatch({ ...cmd, target }, asker, deps)));
      const started = answers.filter((a) => a.kind === 'info');
      assert.equal(started.length, 1, JSON.stringify(answers));
      const refused = answers.find((a) => a.kind === 'refused');
      assert.match(refused?.text ?? '', /already watched in this channel|being started or stopped right now/);
    }
  });

  it('a cancelled watch gives its slot back: the next watch of the target starts', async () => {
    const [a, b] = bots as [WatchDeps, WatchDeps];
    const first = await startWatch(cmd, asker, a);
    assert.equal(first.kind, 'info', first.text);
    const id = /as (wch-[0-9a-f]+):/.exec(first.text)?.[1] ?? '';
    assert.equal((await startWatch(cmd, asker, b)).kind, 'refused');
    const cancelled = await cancelWatch(id, asker, a, false);
    assert.equal(cancelled.kind, 'info', cancelled.text);
    assert.equal((await startWatch(cmd, asker, b)).kind, 'info');
  });
});
