// GET answered with bytes that are not HTTP: what a TCP service does, so a pass for a VIP checked as tcp; a VIP
// checked as HTTP did not answer as one, so step 2 warns and the check cannot say "no fault". A recorded healthy
// HAProxy HTTP check, with its answer replaced.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import { readFixture } from '../fixtures/fixture-files.js';

function answeringNonHttp(protocol: 'http' | 'tcp'): CheckObservation {
  const obs = readFixture('healthy-haproxy-http').observation;
  assert.ok(obs.mode?.exchange, 'the recording has step 2 exchange');
  // Seven bytes of a TLS alert: what a TLS port says to plain HTTP.
  const exchange = {
    behaviour: 'non-http' as const,
    endMs: 3,
    bytes: 7,
    firstByteMs: 2,
    headers: {},
    rawHeaderNames: [],
    bodyExcerpt: '',
  };
  return { ...obs, target: { ...obs.target, protocol }, mode: { ...obs.mode, exchange } };
}

describe('an answer that is not HTTP', () => {
  it('a VIP checked as HTTP: step 2 warns, says why, and the diagnosis is not "no fault"', () => {
    const d = decideCheck(answeringNonHttp('http'));
    const mode = d.steps.find((s) => s.step === 2);
    assert.equal(mode?.verdict, 'warn');
    assert.match(mode?.summary ?? '', /answered GET \/ with 7 bytes that are not HTTP\. The VIP is checked as HTTP/);
    assert.notEqual(d.diagnosis.culprit, 'none');
  });

  it('a VIP checked as tcp: a pass, as before', () => {
    const d = decideCheck(answeringNonHttp('tcp'));
    assert.equal(d.steps.find((s) => s.step === 2)?.verdict, 'pass');
  });
});
