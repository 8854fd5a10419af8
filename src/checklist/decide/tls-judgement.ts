// TLS facts judged at the moment the probe ran: a certificate that is expired,
// not yet valid or issued for another name breaks every client that verifies
// it; one about to expire is a warning worth acting on before it pages anyone.
import type { TlsInfo } from '../../probe/tls-upgrade.js';
import type { ModeFinding } from '../../model/report.js';

export const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

export interface TlsJudgement {
  finding: Extract<ModeFinding, `tls-${string}`>;
  verdict: 'fail' | 'warn';
  text: string;
}

/** RFC 6125-style match: exact, or one leading "*." label. */
export function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (!p.startsWith('*.')) return false;
  const rest = h.split('.').slice(1).join('.');
  return rest !== '' && rest === p.slice(2);
}

function expiredText(cert: string, validTo: string, days: number): string {
  const ago = days > 0 ? ` (${days} days ago)` : '';
  return `${cert} expired on ${validTo}${ago}: clients that verify certificates refuse the VIP. Renew it on the LB.`;
}

function nameMismatchText(cert: string, names: readonly string[], sni: string): string {
  const refused = `${cert} is for ${names.join(', ')}, not for ${sni} (the name clients ask for): they refuse it.`;
  return `${refused} Install the certificate for ${sni}, or fix the SNI mapping on the LB.`;
}

/** OpenSSL's reasons that are about dates: the expiry rules say those, in their own words. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const ISSUER_MISSING = 'its issuer is not in that store, or the LB does not send the intermediate certificates';

/** What OpenSSL's reason means for the reader (the code itself follows it). */
const UNTRUSTED_WHY: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed CA that store does not hold',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ISSUER_MISSING,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ISSUER_MISSING,
};

/**
 * The chain does not verify against the trust store for a reason other than dates: clients that verify refuse it
 * (browsers show a warning page), though lbcheck's own probe went on. A warning, as the issue asks: some estates
 * serve internal clients that trust a private CA not in the store lbcheck was given.
 */
function untrustedText(info: TlsInfo): string | undefined {
  const trust = info.trust;
  if (!trust || trust.authorized || DATE_ERRORS.has(trust.error ?? '')) return undefined;
  const code = trust.error ?? 'unknown reason';
  const why = UNTRUSTED_WHY[code];
  return (
    `Untrusted issuer: the certificate for ${info.subject || '(no CN)'} is issued by ` +
    `"${info.issuer || '?'}", which ${trust.store} does not trust (${why ? `${why}; ` : ''}${code}): clients that ` +
    'verify certificates refuse the VIP. Install a certificate from a CA its clients trust, or, if they trust ' +
    "a private CA, give lbcheck that CA's bundle (caFile in the inventory, or --ca-file)."
  );
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

export function judgeTls(info: TlsInfo, observedAt: Date): TlsJudgement | undefined {
  const from = Date.parse(info.validFrom);
  const to = Date.parse(info.validTo);
  const now = observedAt.getTime();
  const cert = `The certificate for ${info.subject || '(no CN)'} (issuer ${info.issuer || '?'})`;
  if (!Number.isNaN(to) && to < now) {
    const days = Math.floor((now - to) / DAY_MS);
    return {
      finding: 'tls-expired',
      verdict: 'fail',
      text: expiredText(cert, info.validTo, days),
    };
  }
  if (!Number.isNaN(from) && from > now) {
    return {
      finding: 'tls-not-yet-valid',
      verdict: 'fail',
      text:
        `${cert} is not valid before ${info.validFrom}: clients refuse it until then ` +
        '(a certificate deployed too early, or a wrong clock on the LB).',
    };
  }
  if (info.sni && info.names.length > 0 && !info.names.some((n) => nameMatches(n, info.sni))) {
    return {
      finding: 'tls-name-mismatch',
      verdict: 'fail',
      text: nameMismatchText(cert, info.names, info.sni),
    };
  }
  const soon = !Number.isNaN(to) && to - now < EXPIRY_WARNING_DAYS * DAY_MS;
  const expiresSoon = soon
    ? `${cert} expires on ${info.validTo}, in ${plural(Math.max(0, Math.floor((to - now) / DAY_MS)), 'day')}: ` +
      'renew it before clients start refusing the VIP.'
    : undefined;
  const untrusted = untrustedText(info);
  if (untrusted) {
    return { finding: 'tls-untrusted', verdict: 'warn', text: expiresSoon ? `${untrusted} ${expiresSoon}` : untrusted };
  }
  return expiresSoon ? { finding: 'tls-expires-soon', verdict: 'warn', text: expiresSoon } : undefined;
}
