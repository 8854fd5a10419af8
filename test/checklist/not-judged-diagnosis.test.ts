// "No fault found" only when every step was judged and passed (or warned of mere advice): a step that was not
// judged, or did not run, leaves the check inconclusive with what is known, never "every step passed". Recorded
// lab observations, each with one fact changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import { readFixture } from '../fixtures/fixture-files.js';

const fixture = (name: string): CheckObservation => readFixture(name).observation;

function withServers(obs: CheckObservation, edit: (s: NonNullable<CheckObservation['servers']>) => object) {
  assert.ok(obs.servers, 'the recording has step 3');
  return { ...obs, servers: { ...obs.servers, ...edit(obs.servers) } };
}

describe('a diagnosis says "no fault" only of steps that were judged', () => {
  it('the recording itself: every step passed, culprit none', () => {
    const d = decideCheck(fixture('healthy-haproxy-http')).diagnosis;
    assert.equal(d.culprit, 'none');
    assert.match(d.summary, /^Every step passed/);
  });

  it('no pool members known (an ip:port target, a VIP listed without members): step 3 skipped, inconclusive', () => {
    const obs = withServers(fixture('healthy-haproxy-http'), () => ({ members: [] }));
    const { steps, diagnosis } = decideCheck({ ...obs, target: { ...obs.target, members: [] } });
    assert.equal(steps.find((s) => s.step === 3)?.verdict, 'skipped');
    assert.equal(diagnosis.culprit, 'inconclusive');
    assert.match(diagnosis.summary, /^Step 3 was not judged: No pool members known .* No fault in steps 1 and 2\.$/);
    assert.doesNotMatch(diagnosis.summary, /reaches its servers/);
  });

  it('step 3 absent from the observation: inconclusive, saying it did not run', () => {
    const { servers: _dropped, ...obs } = fixture('healthy-haproxy-http');
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'inconclusive');
    assert.equal(d.summary, 'Step 3 did not run, so it was not judged. No fault in steps 1 and 2.');
  });

  it('advice in step 2 (an issuer the trust store lacks) with step 3 inconclusive: inconclusive, not "no fault"', () => {
    const advice = decideCheck(fixture('tls-untrusted')).diagnosis;
    assert.equal(advice.culprit, 'none', 'the recording: no fault, with one warning');
    const obs = withServers(fixture('tls-untrusted'), () => ({ lbChecked: false }));
    const d = decideCheck(obs).diagnosis;
    assert.equal(d.culprit, 'inconclusive');
    assert.match(d.summary, /^Step 3 was inconclusive: No SSH access to the LB/);
  });

  it('advice alone still reads as no fault with one warning', () => {
    const d = decideCheck(fixture('tls-untrusted')).diagnosis;
    assert.match(d.summary, /^No fault on the path, with one warning: /);
  });
});
