// An IPv6 endpoint always prints as [address]:port: "2001:db8::10:80" reads as an address with no port.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideCheck } from '../../src/checklist/decide/decide-check.js';
import { hostPort } from '../../src/model/endpoint-text.js';
import { readFixture } from '../fixtures/fixture-files.js';

const V6 = '2001:db8:19:30::10';

describe('IPv6 endpoints in what lbcheck says', () => {
  it('hostPort brackets IPv6 and leaves IPv4 and names alone', () => {
    assert.equal(hostPort(V6, 80), `[${V6}]:80`);
    assert.equal(hostPort('198.18.0.1', 80), '198.18.0.1:80');
    assert.equal(hostPort('web.example', 443), 'web.example:443');
  });

  for (const name of ['dropped-before-lb', 'vip-not-listening', 'l4-not-forwarding']) {
    it(`${name}: the VIP prints as [${V6}]:port in every step and the diagnosis`, () => {
      const obs = readFixture(name).observation;
      const port = obs.target.port;
      // The same observation for a VIP on IPv6: the capture names the old address, so nothing matches it,
      // and whatever the steps then say about the VIP must bracket it.
      obs.target.vip = V6;
      const d = decideCheck(obs);
      const text = [...d.steps.map((s) => s.summary), d.diagnosis.summary].join('\n');
      assert.match(text, new RegExp(`\\[${V6}\\]:${port}`));
      assert.doesNotMatch(text, new RegExp(`(?<!\\[)${V6}:${port}`));
    });
  }
});
