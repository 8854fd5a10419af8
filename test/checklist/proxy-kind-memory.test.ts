// A worker's memory of which targets proved HTTP proxies (step 2 skips its
// wait for a TCP proxy's connection for those): only a proved HTTP proxy is
// remembered, anything else forgets it, and HA groups are never remembered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { ProxyKindMemory } from '../../src/checklist/observe/proxy-kind-memory.js';
import type { ModeStep } from '../../src/model/report.js';
import type { LbAccess } from '../../src/remote/lb-access.js';
import { withDefaults, type ResolvedTarget } from '../../src/target/check-target.js';
import { readFixture } from '../fixtures/fixture-files.js';

function decidedMode(fixture: string): ModeStep {
  const s = decideCheck(readFixture(fixture).observation).steps.find((x) => x.step === 2);
  assert.ok(s && s.name === 'mode');
  return s;
}

const lb = (host: string): LbAccess => ({
  host,
  port: 22,
  user: 'root',
  privateKey: Buffer.alloc(0),
  pins: { fingerprints: [] },
  captureInterface: 'any',
  label: host,
});

// Documentation addresses: nothing here is connected to.
const target = (over: Partial<ResolvedTarget> = {}): ResolvedTarget =>
  withDefaults({
    vip: '192.0.2.10',
    port: 80,
    protocol: 'http',
    tls: false,
    members: [],
    lb: lb('192.0.2.1'),
    ...over,
  });

describe("a worker's memory of HTTP proxies", () => {
  it('remembers a proved HTTP proxy per LB and VIP, and nothing else', () => {
    const memory = new ProxyKindMemory();
    const t = target();
    assert.equal(memory.knownHttpProxy(t), false);
    memory.learn(t, decidedMode('healthy-haproxy-http'));
    assert.equal(memory.knownHttpProxy(t), true);
    assert.equal(memory.knownHttpProxy(target({ port: 8080 })), false, 'another port');
    assert.equal(memory.knownHttpProxy(target({ lb: lb('192.0.2.2') })), false, 'the same VIP through another LB');
    assert.equal(memory.knownHttpProxy(target({ tls: true })), false, 'TLS on the same port');
  });

  it('forgets it as soon as a check finds anything else (a TCP proxy, an L4 forwarder, no kind)', () => {
    for (const other of ['healthy-haproxy-tcp', 'healthy-dnat', 'vip-silent']) {
      const memory = new ProxyKindMemory();
      const t = target();
      memory.learn(t, decidedMode('healthy-haproxy-http'));
      memory.learn(t, decidedMode(other));
      assert.equal(memory.knownHttpProxy(t), false, other);
    }
  });

  it('never remembers an HA group: which node handles the next probe is not known', () => {
    const memory = new ProxyKindMemory();
    const t = target({ lbNodes: [lb('192.0.2.1'), lb('192.0.2.2')] });
    memory.learn(t, decidedMode('healthy-haproxy-http'));
    assert.equal(memory.knownHttpProxy(t), false);
  });

  it('stays bounded: past its size the oldest target is forgotten first', () => {
    const memory = new ProxyKindMemory();
    const http = decidedMode('healthy-haproxy-http');
    const ports = Array.from({ length: 4097 }, (_, i) => 1000 + i);
    for (const port of ports) memory.learn(target({ port }), http);
    assert.equal(memory.knownHttpProxy(target({ port: 1000 })), false, 'the oldest went');
    assert.equal(memory.knownHttpProxy(target({ port: 1001 })), true);
    assert.equal(memory.knownHttpProxy(target({ port: 5096 })), true, 'the newest stays');
  });
});
