// CIDR ranges for the policy: parse once, match IPv4 and IPv6 addresses.
import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../errors.js';

export interface Cidr {
  text: string;
  family: 4 | 6;
  base: bigint;
  bits: number;
}

function toBigInt(ip: string): { family: 4 | 6; value: bigint } {
  if (isIPv4(ip)) return { family: 4, value: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  if (!isIPv6(ip)) throw new InputError(`${JSON.stringify(ip)} is not an IP address`);
  let v = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (v4?.[1]) {
    const n = toBigInt(v4[1]).value;
    v = `${v.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail = ''] = v.split('::');
  const h = head ? head.split(':') : [];
  const t = v.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = v.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

export function parseCidr(text: string): Cidr {
  const [addr = '', lenText] = text.split('/');
  const { family, value } = toBigInt(addr);
  const max = family === 4 ? 32 : 128;
  const bits = lenText === undefined ? max : Number(lenText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (lenText !== undefined && !/^\d+$/.test(lenText))) {
    throw new InputError(`${JSON.stringify(text)} is not a CIDR range (prefix length 0-${max})`);
  }
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(max - bits);
  return { text, family, bits, base: value & mask };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  if (!isIPv4(ip) && !isIPv6(ip)) return false;
  const { family, value } = toBigInt(ip);
  if (family !== c.family) return false;
  const max = family === 4 ? 32 : 128;
  const mask = c.bits === 0 ? 0n : ((1n << BigInt(c.bits)) - 1n) << BigInt(max - c.bits);
  return (value & mask) === c.base;
}
