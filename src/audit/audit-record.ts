// Audit records: one JSON object per line, each carrying the hash of the one
// before it, so any edit, insertion, deletion or reordering breaks the chain.
import { createHash } from 'node:crypto';
import type { AlertTrigger } from '../model/alert-trigger.js';

export const GENESIS = '0'.repeat(64);

interface RecordBase {
  seq: number;
  time: string;
  prevHash: string;
}

export interface CommandRecord {
  type: 'command';
  outcome: 'queued' | 'refused' | 'answered';
  command: string;
  platform: string;
  user: string;
  userName?: string;
  channel: string;
  checkId?: string;
  target?: string;
  reason?: string;
  /** A --from command: the check queued for each zone (checkId is the first of them). */
  vantages?: { zone: string; checkId: string }[];
  /** Set when an alert asked, not a person: which one (src/alerts). */
  alert?: AlertTrigger;
}

export interface PostRecord {
  type: 'post';
  checkId: string;
  /** 'comparison': a --from command's zones compared (its group id in `group`, its zones in `zone`). */
  kind: 'step' | 'final' | 'cancelled' | 'stopped' | 'error' | 'lost' | 'queued' | 'watch' | 'alert' | 'comparison';
  group?: string;
  step?: number;
  verdict?: string;
  culprit?: string;
  summary: string;
  target: string;
  requester: string;
  platform: string;
  channel: string;
  thread?: string;
  messageIds: string[];
  fileIds: string[];
  /** Set when the post did not go to the channel as usual, e.g. "response_url" where the bot was not a member. */
  via?: string;
  evidence: { name: string; sha256: string; bytes: number; truncatedFrom?: number }[];
  commands: string[];
  worker: string;
  zone: string;
  requestedAt: string;
}

export interface PruneRecord {
  type: 'prune';
  retentionDays: number;
  removed: { sha256: string; bytes: number }[];
}

/**
 * A signed anchor: records 1..count, the last of which hashes to head, existed when it was written. Signed
 * with Ed25519 (checkpoint.ts), so rewriting or truncating what it covers is detectable with the public key.
 */
export interface CheckpointRecord {
  type: 'checkpoint';
  head: string;
  count: number;
  keyId: string;
  reason: 'records' | 'time' | 'export' | 'manual' | 'shutdown';
  signature: string;
}

export type AuditBody = CommandRecord | PostRecord | PruneRecord | CheckpointRecord;
export type AuditRecord = RecordBase & AuditBody & { hash: string };

/** The hash covers the record exactly as serialised, without its own hash field. */
export function hashOf(recordWithoutHash: object): string {
  return createHash('sha256').update(JSON.stringify(recordWithoutHash)).digest('hex');
}

export function seal(base: RecordBase, body: AuditBody): AuditRecord {
  const unsealed = { ...base, ...body };
  return { ...unsealed, hash: hashOf(unsealed) };
}

/** A line of the log as a record, or undefined when it is not one (null, a number, a torn or edited line). */
export function parseRecord(line: string): AuditRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.hash !== 'string' || typeof r.prevHash !== 'string' || typeof r.seq !== 'number') return undefined;
  if (r.type === 'post') return Array.isArray(r.evidence) ? (v as AuditRecord) : undefined;
  if (r.type === 'prune') return Array.isArray(r.removed) ? (v as AuditRecord) : undefined;
  if (r.type === 'checkpoint')
    return typeof r.head === 'string' && typeof r.count === 'number' && typeof r.signature === 'string'
      ? (v as AuditRecord)
      : undefined;
  return r.type === 'command' ? (v as AuditRecord) : undefined;
}
