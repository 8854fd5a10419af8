// TLS VIPs: the handshake with SNI on the probe's connection, recording the
// certificate the VIP presents. Verification is off on purpose: an expired or
// wrong certificate is a finding to report, not a reason to stop the check.
import type { Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';

export interface TlsInfo {
  subject: string;
  issuer: string;
  validTo: string;
  protocol: string;
  sni: string;
}

export function upgradeToTls(
  socket: Socket,
  sni: string,
  timeoutMs: number,
): Promise<{ tls: TLSSocket; info: TlsInfo } | { error: string }> {
  return new Promise((resolve) => {
    const tls = connect({ socket, servername: sni, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      tls.destroy();
      resolve({ error: `no TLS handshake within ${timeoutMs} ms` });
    }, timeoutMs);
    tls.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = tls.getPeerCertificate();
      resolve({
        tls,
        info: {
          subject: [cert.subject?.CN ?? ''].flat().join(', '),
          issuer: [cert.issuer?.CN ?? ''].flat().join(', '),
          validTo: cert.valid_to ?? '',
          protocol: tls.getProtocol() ?? '',
          sni,
        },
      });
    });
    tls.once('error', (err: Error) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
  });
}
