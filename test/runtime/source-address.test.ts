// A worker's vantage address (LBCHECK_SOURCE_ADDRESS / lbcheck worker --source): an IP address or a clear error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readConfig } from '../../src/runtime/env-config.js';

describe('LBCHECK_SOURCE_ADDRESS', () => {
  it('an IP address is the probes’ source; unset leaves it to the route', () => {
    assert.equal(readConfig({ LBCHECK_SOURCE_ADDRESS: '198.18.0.11' }).sourceAddress, '198.18.0.11');
    assert.equal(readConfig({ LBCHECK_SOURCE_ADDRESS: '2001:db8::1' }).sourceAddress, '2001:db8::1');
    assert.equal(readConfig({}).sourceAddress, undefined);
  });

  it('anything else stops startup naming the variable', () => {
    assert.throws(
      () => readConfig({ LBCHECK_SOURCE_ADDRESS: 'eth0; rm -rf /' }),
      /LBCHECK_SOURCE_ADDRESS=.* must be an IP address of this machine/,
    );
  });
});
