// The line a resolved alert posts in its check's thread says what became of the confirming re-check: queued
// (a result follows), refused (why, and no promise), or not asked for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvedText } from '../../src/messages/alert-text.js';
import type { AlertTrigger } from '../../src/model/alert-trigger.js';

const t: AlertTrigger = { source: 'alertmanager', name: 'LbDown', groupKey: 'g', fingerprints: ['f'] };
const AT = '2026-12-06T02:10:00Z';

describe('the resolved line', () => {
  it('a queued re-check: the result follows in this thread', () => {
    assert.equal(
      resolvedText(t, AT, { queued: true }),
      `Alert LbDown resolved at ${AT} (Alertmanager). Checking again to confirm: the result follows in this thread.`,
    );
  });

  it('a refused re-check: says so and why, and promises no result', () => {
    const text = resolvedText(t, AT, { refused: 'you reached the limit of 10 checks per minute' });
    assert.match(text, /Not checked again to confirm: you reached the limit of 10 checks per minute$/);
    assert.doesNotMatch(text, /follows/);
  });

  it('no re-check asked for (recheckOnResolve off): the resolve alone', () => {
    assert.equal(resolvedText(t, '0001-01-01T00:00:00Z', undefined), 'Alert LbDown resolved (Alertmanager).');
  });
});
