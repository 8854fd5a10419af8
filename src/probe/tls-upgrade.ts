// TLS VIPs: the handshake with SNI on the probe's connection, recording the
// certificate the VIP presents and whether its chain verifies against the
// trust store. Rejection is off on purpose: an expired, wrong or untrusted
// certificate is a finding to report, not a reason to stop the check.
import type { Socket } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import type { TlsTrust } from '../model/report.js';
import type { TrustStore } from './trust-store.js';

export interface TlsInfo {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** DNS names from subjectAltName (the CN when there are none). */
  names: string[];
  protocol: string;
  sni: string;
  /** The chain verified against the trust store (the name is judged apart, by tls-judgement). */
  trust?: TlsTrust;
}

function dnsNames(altNames: string | undefined, cn: string): string[] {
  const names = (altNames ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return names.length > 0 ? names : cn ? [cn] : [];
}

function trustOf(tls: TLSSocket, store: string): TlsTrust {
  // Node sets authorizationError to OpenSSL's code (a string), though its type says Error.
  const raw: unknown = tls.authorizationError;
  const error =
    typeof raw === 'string' ? raw : raw instanceof Error ? ((raw as NodeJS.ErrnoException).code ?? raw.message) : '';
  return { authorized: tls.authorized, ...(!tls.authorized && error ? { error } : {}), store };
}

export function upgradeToTls(
  socket: Socket,
  sni: string,
  timeoutMs: number,
  trust?: TrustStore,
): Promise<{ tls: TLSSocket; info: TlsInfo } | { error: string }> {
  return new Promise((resolve) => {
    const tls = connect({
      socket,
      servername: sni,
      rejectUnauthorized: false,
      ...(trust
        ? {
            secureContext: trust.context,
            // The chain alone: a name mismatch is judged from the names, with its own finding.
            checkServerIdentity: () => undefined,
          }
        : {}),
    });
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
          ...(trust ? { trust: trustOf(tls, trust.store) } : {}),
        },
      });
    });
    tls.once('error', (err: Error) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
  });
}
