// The TLS probe verifies the VIP's chain against the trust store it is given (a
// CA bundle, else the system's), records the result, and goes on either way:
// an untrusted certificate is a finding, never a stopped check. Real TLS
// servers on loopback with certificates openssl makes for the test.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { ConfigError } from '../../src/errors.js';
import { tcpConnect } from '../../src/probe/tcp-connect.js';
import { upgradeToTls, type TlsInfo } from '../../src/probe/tls-upgrade.js';
import { trustStore } from '../../src/probe/trust-store.js';
import { labCaPem, selfSignedPem } from '../lab/certs.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-tls-trust-'));
const servers: Server[] = [];

/** A TLS server on loopback presenting `pem` (certificate then key); resolves to its port. */
async function serve(pem: string): Promise<number> {
  const server = createServer({ cert: pem, key: pem }, (s) => s.end());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function handshake(port: number, sni: string, caFile: string | undefined): Promise<TlsInfo> {
  const c = await tcpConnect('127.0.0.1', port, 2000);
  assert.ok(c.socket);
  const up = await upgradeToTls(c.socket, sni, 2000, trustStore(caFile));
  assert.ok(!('error' in up), JSON.stringify(up));
  up.tls.destroy();
  return up.info;
}

let caSigned: { port: number; caFile: string };
let selfSigned: number;

before(async () => {
  const { pem, caFile } = await labCaPem(dir, 'web.lab.test', 30);
  caSigned = { port: await serve(pem), caFile };
  selfSigned = await serve(await selfSignedPem(dir, 'self.lab.test', 30));
});
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS trust', () => {
  it('a certificate from the CA in the given bundle is trusted, and the store is named', async () => {
    const info = await handshake(caSigned.port, 'web.lab.test', caSigned.caFile);
    assert.deepEqual(info.trust, { authorized: true, store: `the CA bundle ${caSigned.caFile}` });
  });

  it("the same certificate against the system's store: its issuer is not there", async () => {
    const info = await handshake(caSigned.port, 'web.lab.test', undefined);
    assert.equal(info.trust?.authorized, false);
    assert.match(info.trust.error ?? '', /^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)$/);
    assert.match(info.trust.store, /system's CA store|bundled CA roots/);
    assert.equal(info.issuer, 'lbcheck lab root CA');
  });

  it('a self-signed certificate is untrusted even with a CA bundle given', async () => {
    const info = await handshake(selfSigned, 'self.lab.test', caSigned.caFile);
    assert.deepEqual(info.trust, {
      authorized: false,
      error: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      store: `the CA bundle ${caSigned.caFile}`,
    });
  });

  it('the name is not part of trust: another SNI leaves a trusted chain trusted (the name rule judges it)', async () => {
    const info = await handshake(caSigned.port, 'other.lab.test', caSigned.caFile);
    assert.equal(info.trust?.authorized, true);
    assert.deepEqual(info.names, ['web.lab.test']);
  });

  it('a CA bundle that cannot be read is a configuration error naming the file', () => {
    const missing = join(dir, 'no-such-ca.pem');
    assert.throws(
      () => trustStore(missing),
      (err: Error) => err instanceof ConfigError && err.message.includes(missing),
    );
  });
});
