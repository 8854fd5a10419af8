// What the diagnosis says of failing members, from a recorded check (the members blocked from the LB only) with
// one fact changed: members that time out from the LB and directly alike (a timeout is not a refusal, the
// checklist: the host may be down, or a firewall or route in front of it drop the connection), and one member down
// everywhere beside others blocked from the LB only (each group named with its own cause).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import { readFixture } from '../fixtures/fixture-files.js';

function everyProbeTimesOut(): CheckObservation {
  const obs = readFixture('server-blocks-lb').observation;
  assert.ok(obs.servers, 'the recording has step 3');
  const timeout = { outcome: 'timeout' as const, ms: 1001, code: 'L4TOUT' };
  const members = obs.servers.members.map((m) => ({ ...m, direct: timeout }));
  return { ...obs, servers: { ...obs.servers, members } };
}

describe('members that time out everywhere', () => {
  it('the recording: blocked from the LB only, not the servers', () => {
    assert.equal(decideCheck(readFixture('server-blocks-lb').observation).diagnosis.culprit, 'lb-to-servers');
  });

  it('timed out from the LB and directly: down or unreachable, and the network in front of them named', () => {
    const d = decideCheck(everyProbeTimesOut()).diagnosis;
    assert.equal(d.culprit, 'servers');
    assert.match(d.summary, /neither from the LB nor directly \(L4TOUT\)\. Every probe timed out: /);
    assert.match(d.summary, /a firewall or route in front of them drops the connection/);
  });

  it('one member down everywhere beside others blocked from the LB only: each group named with its own cause', () => {
    const obs = readFixture('server-blocks-lb').observation;
    assert.ok(obs.servers && obs.servers.members.length >= 2, 'the recording has several members');
    const refused = { outcome: 'refused' as const, ms: 1, code: 'L4CON' };
    const [first, ...rest] = obs.servers.members;
    assert.ok(first);
    const down = { ...first, direct: refused, fromLb: { ...first.fromLb, ...refused }, code: 'L4CON' };
    const d = decideCheck({ ...obs, servers: { ...obs.servers, members: [down, ...rest] } }).diagnosis;
    const blocked = rest.map((m) => m.address).join(', ');
    assert.equal(d.culprit, 'lb-to-servers');
    assert.ok(d.summary.startsWith(`${blocked} answer direct probes but not the LB`), d.summary);
    assert.match(d.summary, new RegExp(`Besides, ${first.address.replaceAll('.', '\\.')} refuses connections`));
  });
});
