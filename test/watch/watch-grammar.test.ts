// The watch command's bounds, as a user meets them: at least 10 s between
// checks, at most 2 h, clear errors otherwise. (Tests run watches faster only
// through the intake's test-only time scale, never by lowering these.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from '../../src/commands/grammar.js';
import { parseDuration, WATCH_MAX_DURATION_MS, WATCH_MIN_INTERVAL_MS } from '../../src/watch/watch.js';

describe('/lbcheck watch', () => {
  it('defaults to every 30s for 30m; takes s, m and h', () => {
    assert.deepEqual(parseCommand('watch web-vip'), {
      kind: 'watch',
      target: 'web-vip',
      everyMs: 30_000,
      forMs: 1_800_000,
    });
    assert.deepEqual(parseCommand('watch web-vip --every 10s --for 2h'), {
      kind: 'watch',
      target: 'web-vip',
      everyMs: WATCH_MIN_INTERVAL_MS,
      forMs: WATCH_MAX_DURATION_MS,
    });
    assert.equal(parseDuration('5m', '--for'), 300_000);
  });

  it('refuses an interval under 10 s, a duration over 2 h, and bad durations, saying what is allowed', () => {
    assert.throws(() => parseCommand('watch web-vip --every 9s'), /--every must be at least 10s/);
    assert.throws(() => parseCommand('watch web-vip --for 121m'), /--for must be at most 2h/);
    assert.throws(
      () => parseCommand('watch web-vip --every 1m --for 30s'),
      /--for must be at least as long as --every/,
    );
    assert.throws(() => parseCommand('watch web-vip --every soon'), /--every takes a duration like 30s, 5m or 1h/);
    assert.throws(() => parseCommand('watch web-vip --every'), /--every needs a duration/);
    assert.throws(() => parseCommand('watch'), /missing target/);
    assert.throws(() => parseCommand('watch web-vip --all'), /unexpected "--all"/);
  });

  it('cancel takes a watch id as well as a check id', () => {
    assert.deepEqual(parseCommand('cancel wch-0123456789'), { kind: 'cancel', id: 'wch-0123456789' });
    assert.throws(() => parseCommand('cancel wch-xyz'), /is not a check id/);
  });
});
