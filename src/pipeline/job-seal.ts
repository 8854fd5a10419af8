// Jobs cross Redis, which anyone with its password can write to. With a key
// the bot and its workers share (LBCHECK_JOB_KEY), every job carries an HMAC
// over its content, and a job that does not (written straight into Redis, or
// altered there) is refused before anything runs or is posted.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** JSON with object keys sorted, so the MAC does not depend on key order after a round trip through Redis. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export type Sealed<T> = T & { seal: string };

export class JobSeal {
  constructor(private readonly key: string) {}

  private mac(kind: string, data: unknown): string {
    return createHmac('sha256', this.key)
      .update(`${kind}\n${canonicalJson(data)}`)
      .digest('base64url');
  }

  /** `kind` (checks, reports) keeps a job of one queue from being replayed into the other. */
  seal<T extends object>(kind: string, data: T): Sealed<T> {
    return { ...data, seal: this.mac(kind, data) };
  }

  /** The job without its seal when the seal is valid; undefined otherwise. */
  open<T extends object>(kind: string, data: unknown): T | undefined {
    if (data === null || typeof data !== 'object') return undefined;
    const { seal, ...rest } = data as { seal?: unknown };
    if (typeof seal !== 'string') return undefined;
    const want = Buffer.from(this.mac(kind, rest));
    const got = Buffer.from(seal);
    return want.length === got.length && timingSafeEqual(want, got) ? (rest as T) : undefined;
  }
}
