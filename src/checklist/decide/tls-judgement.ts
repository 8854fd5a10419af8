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
  if (!Number.isNaN(to) && to - now < EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.max(0, Math.floor((to - now) / DAY_MS));
    return {
      finding: 'tls-expires-soon',
      verdict: 'warn',
      text:
        `${cert} expires on ${info.validTo}, in ${plural(days, 'day')}: ` +
        'renew it before clients start refusing the VIP.',
    };
  }
  return undefined;
}
