// TLS VIPs: the handshake with SNI on the probe's connection, recording the
// certificate the VIP presents. Verification is off on purpose: an expired or
// wrong certificate is a finding to report, not a reason to stop the check.
import type { Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';

export interface TlsInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** DNS names from subjectAltName (the CN when there are none). */
  names: string[];
  protocol: string;
  sni: string;
}

function dnsNames(altNames: string | undefined, cn: string): string[] {
  const names = (altNames ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return names.length > 0 ? names : cn ? [cn] : [];
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
      const subject = [cert.subject?.CN ?? ''].flat().join(', ');
      resolve({
        tls,
        info: {
          subject,
          issuer: [cert.issuer?.CN ?? ''].flat().join(', '),
          validFrom: cert.valid_from ?? '',
          validTo: cert.valid_to ?? '',
          names: dnsNames(cert.subjectaltname, subject),
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
