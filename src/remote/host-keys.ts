// SSH host-key pinning: the LB's key must match a known_hosts entry or a
// configured SHA256 fingerprint; anything else refuses the connection.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export interface HostKeyPins {
  /** Accepted fingerprints, "SHA256:..." form. */
  fingerprints: string[];
}

/** One OpenSSH host pattern: `*` any run of characters, `?` one; case-insensitive, like ssh's match_pattern. */
function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/**
 * Whether a known_hosts host field names host:port, as OpenSSH decides it:
 * a hashed entry (|1|salt|hash), or comma-separated patterns with wildcards
 * where any matching negated pattern (!pattern) rules the line out.
 */
export function hostPatternMatches(patterns: string, host: string, port: number): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    const negated = p.startsWith('!');
    if (!globMatches(negated ? p.slice(1) : p, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** Pins for host:port from an OpenSSH known_hosts file (plain or hashed entries; @revoked refuses). */
export function pinsFromKnownHosts(file: string, host: string, port: number): HostKeyPins & { revoked: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read known_hosts file ${file}: ${(err as Error).message}`, undefined, { cause: err });
  }
  const fingerprints: string[] = [];
  const revoked: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]?.startsWith('#')) continue;
    let marker = '';
    if (fields[0]?.startsWith('@')) marker = fields.shift() ?? '';
    const [hosts, , blob] = fields;
    if (hosts === undefined || blob === undefined || marker === '@cert-authority') continue;
    if (!hostPatternMatches(hosts, host, port)) continue;
    const fp = fingerprint(Buffer.from(blob, 'base64'));
    (marker === '@revoked' ? revoked : fingerprints).push(fp);
  }
  return { fingerprints, revoked };
}

export type HostKeyVerdict =
  { ok: true; seen: string } | { ok: false; seen: string; reason: 'unknown' | 'mismatch' | 'revoked' };

export function verifyHostKey(keyBlob: Buffer, pins: HostKeyPins & { revoked?: string[] }): HostKeyVerdict {
  const seen = fingerprint(keyBlob);
  if (pins.revoked?.includes(seen)) return { ok: false, seen, reason: 'revoked' };
  if (pins.fingerprints.length === 0) return { ok: false, seen, reason: 'unknown' };
  return pins.fingerprints.includes(seen) ? { ok: true, seen } : { ok: false, seen, reason: 'mismatch' };
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function parseFingerprint(raw: string, where: string): string {
  const fp = raw.trim().replace(/=+$/, '');
  if (!FINGERPRINT.test(fp)) {
    throw new ConfigError(
      `${where}: host key fingerprint ${JSON.stringify(raw)} is not of the form SHA256:<43 base64 characters>`,
      'get it with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the LB',
    );
  }
  return fp;
}
