// Host and client keys for tests that run ssh2's own Server in process.
import ssh2 from 'ssh2';

/**
 * An ed25519 pair ssh2 can read back. ssh2's generator now and then (about one in fifty) writes an OpenSSH
 * private key its own parser calls malformed, which failed a test at random: such a pair is drawn again.
 */
export function readableEd25519Pair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error('ssh2 generated 20 ed25519 keys it cannot parse');
}
