// Slack drops a slash command not acked within 3 s: nothing slow may stand
// before the ack. With the fake Web API answering usergroups.users.list in 5 s
// and the audit log's lock held by another (live) holder, the ack still comes
// first, and the command's audit record is written, in order, once the lock
// is free. Real Bolt over signed HTTP; the order of events is asserted, never
// a wall-clock threshold.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import type { Lab } from '../lab/lab.js';
import { useLab } from '../lab/use-lab.js';
import { startSlackStack, type SlackStack } from './slack-stack.js';

let lab: Lab;
let stack: SlackStack;

useLab({ serverCount: 1 }, async (started, own) => {
  lab = started;
  stack = own(await startSlackStack(lab, false));
});

/** Holds the audit log's lock as a live process on this host would (this one), until the returned release. */
function holdAuditLock(): () => void {
  const path = `${stack.audit.file}.lock`;
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname() }), { flag: 'wx' });
  return () => rmSync(path, { force: true });
}

const commandRecords = (user: string): string[] =>
  stack.audit
    .records()
    .filter((r) => r.type === 'command' && r.user === user)
    .map((r) => (r.type === 'command' ? `${r.command} ${r.outcome}` : ''));

describe('Slack: the ack comes before anything slow', { timeout: 60_000 }, () => {
  it('a 5 s group lookup and a held audit lock: acked first (a clear refusal where only the group could allow), audited after the lock is freed', async () => {
    const events: string[] = [];
    stack.fake.delays.set('usergroups.users.list', 5_000);
    stack.fake.onAnswer = (m) => m === 'usergroups.users.list' && events.push('slack answered the group lookup');
    const release = holdAuditLock();
    // The lock is freed later whatever happens, so a blocked ack shows as an order, not a hang.
    const freed = new Promise<void>((r) =>
      setTimeout(() => {
        release();
        events.push('audit lock released');
        r();
      }, 7_000),
    );
    try {
      const [byName, byGroup] = await Promise.all([
        stack.slash('haproxy-http').then((a) => (events.push('ack U0ONCALL'), a)),
        stack.slash('haproxy-http', { user: 'U0INGROUP' }).then((a) => (events.push('ack U0INGROUP'), a)),
      ]);
      assert.equal(byName.status, 200);
      assert.match(byName.body, /Queued chk-[0-9a-f]{10}/, 'U0ONCALL is allowed by name: the slow lookup is moot');
      assert.match(
        byGroup.body,
        /Could not decide the lbcheck policy for you: Slack did not answer the user-group lookup \(usergroups\.users\.list for S0NETOPS\) within 1\.5 s/,
      );
      assert.deepEqual(
        [...events].sort(),
        ['ack U0INGROUP', 'ack U0ONCALL'],
        'both acks came before Slack answered the lookup and before the lock was freed',
      );
      assert.deepEqual(commandRecords('U0ONCALL'), [], 'not written while the lock is held');
    } finally {
      await freed;
    }
    await stack.audit.flushed();
    assert.deepEqual(commandRecords('U0ONCALL'), ['haproxy-http queued']);
    assert.deepEqual(commandRecords('U0INGROUP'), ['haproxy-http refused']);
    // The slow answer, once it came, is cached: the next command is decided by it (U0INGROUP is in S0NETOPS).
    assert.ok(events.includes('slack answered the group lookup'), events.join(', '));
    stack.fake.delays.clear();
    const again = await stack.slash('haproxy-http', { user: 'U0INGROUP' });
    assert.match(again.body, /Queued chk-[0-9a-f]{10}/);
  });
});
