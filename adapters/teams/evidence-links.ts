// Teams bots cannot put files into channels without Graph, so the bot serves
// evidence itself: each link names the exact sha256-addressed bytes and is
// signed (HMAC-SHA256) with an expiry. Anything else is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface EvidenceLinkSigner {
  url(sha256: string, name: string, now?: number): string;
  verify(sha256: string, name: string, exp: string, sig: string, now?: number): 'ok' | 'expired' | 'bad-signature';
}

export function evidenceLinks(baseUrl: string, secret: string, ttlSeconds: number): EvidenceLinkSigner {
  const mac = (sha: string, name: string, exp: string): string =>
    createHmac('sha256', secret).update(`${sha}\n${name}\n${exp}`).digest('hex');
  return {
    url(sha, name, now = Date.now()) {
      const exp = String(Math.floor(now / 1000) + ttlSeconds);
      const path = `/evidence/${sha}/${encodeURIComponent(name)}`;
      return `${baseUrl.replace(/\/$/, '')}${path}?exp=${exp}&sig=${mac(sha, name, exp)}`;
    },
    verify(sha, name, exp, sig, now = Date.now()) {
      const want = Buffer.from(mac(sha, name, exp), 'hex');
      const got = Buffer.from(/^[0-9a-f]{64}$/.test(sig) ? sig : '', 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) return 'bad-signature';
      return Number(exp) * 1000 < now ? 'expired' : 'ok';
    },
  };
}
