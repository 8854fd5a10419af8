// Jobs cross Redis, which anyone with its password can write to. With a key
// the bot and its workers share (LBCHECK_JOB_KEY), every job carries an HMAC
// over its content, its queue job id, its issue time and a nonce: a job that
// does not (written straight into Redis, or altered there), one re-added under
// another id, one older than its queue's maximum wait, or one whose nonce was
// already used, is refused before anything runs or is posted.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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

/**
 * What a seal covers besides the job's data: the queue job id it was issued for, when, after what delay (a
 * delayed job is due later), and a random nonce, so that one sealed job runs once.
 */
export interface SealStamp {
  id: string;
  issuedAt: number;
  delayMs: number;
  nonce: string;
  mac: string;
}

export type Sealed<T> = T & { seal: SealStamp };

/** Why a sealed job is refused (counted by this label in lbcheck_jobs_refused_total). */
export type SealRefusal = 'unsealed' | 'other-id' | 'stale' | 'replayed';

export type Opened<T> = { ok: true; data: T; stamp: SealStamp } | { ok: false; reason: SealRefusal };

/** Clock skew tolerated between the process that sealed a job and the one that opens it. */
export const SEAL_CLOCK_SKEW_MS = 60_000;

function isStamp(v: unknown): v is SealStamp {
  const s = v as Partial<SealStamp> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.id === 'string' &&
    Number.isSafeInteger(s.issuedAt) &&
    Number.isSafeInteger(s.delayMs) &&
    typeof s.nonce === 'string' &&
    typeof s.mac === 'string'
  );
}

export class JobSeal {
  constructor(private readonly key: string) {}

  private mac(kind: string, stamp: Omit<SealStamp, 'mac'>, data: unknown): string {
    return createHmac('sha256', this.key)
      .update(`${kind}\n${stamp.id}\n${stamp.issuedAt}\n${stamp.delayMs}\n${stamp.nonce}\n${canonicalJson(data)}`)
      .digest('base64url');
  }

  /**
   * `kind` (checks, reports, watch) keeps a job of one queue from being replayed into another; `id` is the
   * queue job id it is added under; `delayMs` when the queue holds it back that long.
   */
  seal<T extends object>(kind: string, id: string, data: T, now = Date.now(), delayMs = 0): Sealed<T> {
    const stamp = { id, issuedAt: now, delayMs, nonce: randomBytes(16).toString('base64url') };
    return { ...data, seal: { ...stamp, mac: this.mac(kind, stamp, data) } };
  }

  /**
   * The job's data and stamp when its seal is valid for this job id and not older than `maxWaitMs` after it
   * was due. Whether the nonce was seen before is the caller's question (SeenSeals): it needs shared state.
   */
  open<T extends object>(kind: string, jobId: string, raw: unknown, maxWaitMs: number, now = Date.now()): Opened<T> {
    if (raw === null || typeof raw !== 'object') return { ok: false, reason: 'unsealed' };
    const { seal, ...rest } = raw as { seal?: unknown };
    if (!isStamp(seal)) return { ok: false, reason: 'unsealed' };
    const want = Buffer.from(this.mac(kind, seal, rest));
    const got = Buffer.from(seal.mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: 'unsealed' };
    // Authentic data re-added under another id: a replay of a finished job.
    if (seal.id !== jobId) return { ok: false, reason: 'other-id' };
    const due = seal.issuedAt + seal.delayMs;
    if (now > due + maxWaitMs || seal.issuedAt > now + SEAL_CLOCK_SKEW_MS) return { ok: false, reason: 'stale' };
    return { ok: true, data: rest as T, stamp: seal };
  }
}

/** Until when a stamp can be opened: its nonce must be remembered that long. */
export function sealExpiresAt(stamp: SealStamp, maxWaitMs: number): number {
  return stamp.issuedAt + stamp.delayMs + maxWaitMs;
}
