// known_hosts host patterns as OpenSSH matches them (wildcards, negation,
// [host]:port, hashed names), so that an `@revoked` line refuses every key it
// names; and an empty `hostKey:` in the inventory is an error, never a quiet
// fall back to ~/.ssh/known_hosts.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseInventory } from '../../src/inventory/load-inventory.js';
import { hostPatternMatches, pinsFromKnownHosts, verifyHostKey } from '../../src/remote/host-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-known-hosts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const keyA = randomBytes(51);
const keyB = randomBytes(51);
const b64 = (b: Buffer): string => b.toString('base64');

function knownHosts(lines: string[]): string {
  const file = join(dir, `kh-${randomBytes(3).toString('hex')}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('known_hosts host patterns', () => {
  it('wildcards, ?, negation and [host]:port, as OpenSSH reads them', () => {
    assert.equal(hostPatternMatches('*', '198.18.1.2', 22), true);
    assert.equal(hostPatternMatches('*', '198.18.1.2', 2222), true);
    assert.equal(hostPatternMatches('198.18.1.*', '198.18.1.2', 22), true);
    assert.equal(hostPatternMatches('198.18.1.?', '198.18.1.2', 22), true);
    assert.equal(hostPatternMatches('198.18.1.?', '198.18.1.20', 22), false);
    assert.equal(hostPatternMatches('LB-1.EXAMPLE', 'lb-1.example', 22), true);
    assert.equal(hostPatternMatches('*,!198.18.1.2', '198.18.1.2', 22), false);
    assert.equal(hostPatternMatches('*,!198.18.1.2', '198.18.1.3', 22), true);
    assert.equal(hostPatternMatches('!198.18.1.3', '198.18.1.2', 22), false);
    assert.equal(hostPatternMatches('[198.18.1.2]:2222', '198.18.1.2', 2222), true);
    assert.equal(hostPatternMatches('198.18.1.2', '198.18.1.2', 2222), false);
    assert.equal(hostPatternMatches('198.18.1.2.', '198.18.1.2', 22), false);
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('198.18.1.2').digest('base64');
    assert.equal(hostPatternMatches(`|1|${b64(salt)}|${hash}`, '198.18.1.2', 22), true);
  });

  it('`@revoked *` refuses the key for every host, even one pinned by another line', () => {
    const file = knownHosts([
      `198.18.1.2 ssh-ed25519 ${b64(keyA)}`,
      `@revoked * ssh-ed25519 ${b64(keyA)}`,
      `198.18.1.2 ssh-ed25519 ${b64(keyB)}`,
    ]);
    const pins = pinsFromKnownHosts(file, '198.18.1.2', 22);
    assert.equal(verifyHostKey(keyA, pins).ok, false);
    assert.deepEqual(verifyHostKey(keyA, pins), { ok: false, seen: verifyHostKey(keyA, pins).seen, reason: 'revoked' });
    assert.equal(verifyHostKey(keyB, pins).ok, true);
  });

  it('`@revoked` with a wildcard pattern and a negation applies exactly where OpenSSH applies it', () => {
    const file = knownHosts([`* ssh-ed25519 ${b64(keyA)}`, `@revoked 198.18.*,!198.18.1.3 ssh-ed25519 ${b64(keyA)}`]);
    assert.equal(verifyHostKey(keyA, pinsFromKnownHosts(file, '198.18.1.2', 22)).ok, false);
    assert.equal(verifyHostKey(keyA, pinsFromKnownHosts(file, '198.18.1.3', 22)).ok, true);
  });
});

describe('inventory host key pins', () => {
  it('an empty hostKey is an error with its line, not a fall back to ~/.ssh/known_hosts', () => {
    const yaml = `loadBalancers:\n  edge:\n    ssh: ssh://root@198.18.1.2\n    identity: /k\n    hostKey: ""\nvips: {}\n`;
    assert.throws(() => parseInventory(yaml, 'inv.yaml'), /inv\.yaml:5: load balancer "edge": hostKey is empty/);
  });
});
