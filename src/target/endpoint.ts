// The strict grammar for everything a user types that names a host or port.
// Anything outside it is refused with the exact problem: these values end up
// in capture filters and remote commands.
import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../errors.js';

export interface Endpoint {
  host: string;
  port: number;
  /** 4, 6, or 0 for a DNS name. */
  family: 0 | 4 | 6;
}

const HOSTNAME_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const MAX_INPUT = 300;

function show(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}

/**
 * An IPv6 address in RFC 5952 form (lower case, the first longest zero run compressed, no dotted tail), as the
 * capture decoder writes addresses (capture/network-layer.ts): `2001:DB8:0:0::1` and `2001:db8::1` are one
 * address, and a VIP compared with the capture's addresses as typed would be "another device" (issue: impostor).
 */
export function canonicalIPv6(address: string): string {
  // The URL standard serialises an IPv6 host exactly so.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export function parseHost(raw: string, what = 'host'): { host: string; family: 0 | 4 | 6 } {
  if (raw.length === 0) throw new InputError(`${what} is empty`);
  if (raw.length > 253) throw new InputError(`${what} is longer than 253 characters`);
  if (isIPv4(raw)) return { host: raw, family: 4 };
  if (/^[0-9a-f:.]+$/i.test(raw) && raw.includes(':') && isIPv6(raw)) return { host: canonicalIPv6(raw), family: 6 };
  // Dotted digits that are not a valid IPv4 address are a typo, not a hostname.
  if (/^[\d.]+$/.test(raw)) throw new InputError(`${what} ${show(raw)} is not a valid IPv4 address`);
  const labels = raw.replace(/\.$/, '').split('.');
  if (labels.every((l) => HOSTNAME_LABEL.test(l))) return { host: raw.replace(/\.$/, '').toLowerCase(), family: 0 };
  throw new InputError(
    `${what} ${show(raw)} is not an IP address or a hostname`,
    'use an IPv4 address, an IPv6 address in brackets, or a DNS name of letters, digits, dots and hyphens',
  );
}

export function parsePort(raw: string, what = 'port'): number {
  if (!/^\d{1,5}$/.test(raw)) throw new InputError(`${what} ${show(raw)} is not a number from 1 to 65535`);
  const port = Number(raw);
  if (port < 1 || port > 65535) throw new InputError(`${what} ${port} is out of range (1-65535)`);
  return port;
}

/** "198.18.0.1:80", "[2001:db8::1]:443", "web.example.com:8080". */
export function parseEndpoint(raw: string, what = 'address'): Endpoint {
  if (raw.length > MAX_INPUT) throw new InputError(`${what} is longer than ${MAX_INPUT} characters`);
  let hostPart: string;
  let portPart: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(raw);
  if (bracketed) {
    hostPart = bracketed[1] ?? '';
    portPart = bracketed[2] ?? '';
    if (!isIPv6(hostPart))
      throw new InputError(`${what} ${show(raw)}: ${show(hostPart)} in brackets is not an IPv6 address`);
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon < 0)
      throw new InputError(`${what} ${show(raw)} has no port`, `write it as host:port, e.g. 198.18.0.10:443`);
    hostPart = raw.slice(0, colon);
    portPart = raw.slice(colon + 1);
    if (hostPart.includes(':')) {
      throw new InputError(`${what} ${show(raw)} looks like IPv6 without brackets`, 'write IPv6 as [2001:db8::1]:443');
    }
  }
  const { host, family } = parseHost(hostPart, what);
  return { host, port: parsePort(portPart, `${what} port`), family };
}

export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

const SSH_USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** "ssh://user@host[:port]" (port defaults to 22). */
export function parseSshUrl(raw: string, what = '--lb'): SshTarget {
  const m = /^ssh:\/\/([^@/]+)@(\[[^\]]+\]|[^:/]+)(?::([^/]*))?\/?$/.exec(raw);
  if (!m)
    throw new InputError(
      `${what} ${show(raw)} is not an SSH URL`,
      'write it as ssh://user@host or ssh://user@host:2222',
    );
  const user = m[1] ?? '';
  if (!SSH_USER.test(user)) throw new InputError(`SSH user ${show(user)} is not a valid user name`);
  const rawHost = (m[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  const { host } = parseHost(rawHost, 'SSH host');
  const port = m[3] === undefined ? 22 : parsePort(m[3], 'SSH port');
  return { user, host, port };
}
