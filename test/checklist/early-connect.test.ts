// A TCP proxy with every member down carries no request to any server, so no
// proxied flow shows its kind; its connection to a member the moment it
// accepted the client does (recorded: HAProxy mode tcp, no health checks,
// every member refusing). Each test changes one fact in that recording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/capture/packet.js';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { EARLY_CONNECT_WINDOW_MS } from '../../src/checklist/decide/early-connect.js';
import type { CheckObservation } from '../../src/checklist/observation.js';
import type { ModeStep } from '../../src/model/report.js';
import { readFixture } from '../fixtures/fixture-files.js';

function modeOf(obs: CheckObservation): ModeStep {
  const s = decideCheck(obs).steps.find((x) => x.step === 2);
  assert.ok(s && s.name === 'mode');
  return s;
}

const members = (obs: CheckObservation): string[] => obs.target.members.map((m) => m.host);

/** The LB's first SYN toward a member after the client's SYN (the early connection). */
function earlySyn(obs: CheckObservation): Packet {
  const packets = obs.mode?.lb?.packets ?? [];
  const clientSyn = packets.find((p) => p.ip?.dst === obs.target.vip && p.tcp?.flags.syn && !p.tcp.flags.ack);
  const syn = packets.find(
    (p) =>
      p.index > (clientSyn?.index ?? Infinity) &&
      p.tcp?.flags.syn === true &&
      !p.tcp.flags.ack &&
      members(obs).includes(p.ip?.dst ?? ''),
  );
  assert.ok(syn, 'the recording holds the early SYN');
  return syn;
}

/** The observation with step 2's LB packets changed by `edit`. */
function withPackets(obs: CheckObservation, edit: (packets: Packet[]) => Packet[]): CheckObservation {
  assert.ok(obs.mode?.lb);
  return { ...obs, mode: { ...obs.mode, lb: { ...obs.mode.lb, packets: edit(obs.mode.lb.packets) } } };
}

describe('a TCP proxy known by connecting before the client sent a byte', () => {
  const obs = readFixture('tcp-proxy-members-down').observation;

  it('the recorded check: L7, kind tcp, the early connection named and among the deciding packets', () => {
    const mode = modeOf(obs);
    assert.equal(mode.mode, 'L7');
    assert.equal(mode.proxyKind, 'tcp');
    const syn = earlySyn(obs);
    assert.match(mode.summary, new RegExp(`opened its own connection to ${syn.ip?.dst}:8080, which refused it`));
    // No server-side flow carried the request: the kind came from the early connection alone.
    assert.ok(mode.serverSide.every((s) => s.tiedBy !== 'marker'));
  });

  it('without that SYN the kind stays open', () => {
    const syn = earlySyn(obs);
    const mode = modeOf(withPackets(obs, (ps) => ps.filter((p) => p !== syn)));
    assert.equal(mode.mode, 'L7');
    assert.equal(mode.proxyKind, null);
  });

  it('a SYN later than the window after the accept (a health check, say) proves nothing', () => {
    const syn = earlySyn(obs);
    const late = { ...syn, timeUs: syn.timeUs + (EARLY_CONNECT_WINDOW_MS + 1) * 1000 };
    const mode = modeOf(withPackets(obs, (ps) => ps.map((p) => (p === syn ? late : p))));
    assert.equal(mode.proxyKind, null);
  });

  it('a SYN to an address outside the pool proves nothing', () => {
    const syn = earlySyn(obs);
    assert.ok(syn.ip);
    const elsewhere = { ...syn, ip: { ...syn.ip, dst: '198.18.0.99' } };
    const mode = modeOf(withPackets(obs, (ps) => ps.map((p) => (p === syn ? elsewhere : p))));
    assert.equal(mode.proxyKind, null);
  });
});
