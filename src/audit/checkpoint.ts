// Signed checkpoints anchor the hash chain: the chain alone detects accidental
// damage, but anyone who can write the file can drop its tail or rewrite it as
// a new self-consistent chain. A checkpoint signs (head hash, record count,
// time, key id) with a key the log's writer cannot forge without; the auditor
// checks it with the public key alone. A copy sent off the machine (webhook)
// also proves how long the log was, so truncation past the last checkpoint
// shows too.
import type { AuditRecord, CheckpointRecord } from './audit-record.js';
import type { AuditVerifier } from './signing.js';

/** What a checkpoint signs: one line, fixed field order, versioned. */
export function checkpointPayload(c: { head: string; count: number; time: string; keyId: string }): string {
  const fields = { head: c.head, count: c.count, time: c.time, keyId: c.keyId };
  return `lbcheck-audit-checkpoint/v1 ${JSON.stringify(fields)}`;
}

export type SignedCheckpoint = AuditRecord & CheckpointRecord;

export interface Coverage {
  /** Records 1..covered are anchored by a valid checkpoint (0: none). */
  covered: number;
  /** The last valid checkpoint. */
  checkpoint?: { seq: number; time: string; keyId: string };
  /** Records written after that checkpoint record: not yet anchored. */
  unanchored: number;
  problems: string[];
}

const isCheckpoint = (r: AuditRecord): r is SignedCheckpoint => r.type === 'checkpoint';

/** The first 12 hex digits, enough to tell hashes apart in a message. */
const shortHash = (hash: string): string => `${hash.slice(0, 12)}…`;

const OTHER_KEY_HINT = "forged, or another key (give that key's public half)";
const BAD_SIGNATURE =
  'its signature does not verify: the checkpoint was forged or altered (a log rewritten without the key)';

/** A checkpoint whose anchored record is not in the log as it signed it. */
function unknownHead(cp: SignedCheckpoint): string {
  const anchored = `it anchors record ${cp.count} with hash ${shortHash(cp.head)}`;
  return `${anchored}, which is not in this log: records it covers were removed or rewritten`;
}

/** Problems with one checkpoint record, or none when it is valid for this chain and key. */
function checkpointProblem(
  cp: SignedCheckpoint,
  hashBySeq: ReadonlyMap<number, string>,
  key: AuditVerifier,
): string | undefined {
  const where = `record ${cp.seq} (checkpoint of ${cp.time})`;
  if (cp.keyId !== key.keyId)
    return `${where}: signed by key ${cp.keyId}, not by the given public key ${key.keyId}: ${OTHER_KEY_HINT}`;
  if (!key.verify(checkpointPayload(cp), cp.signature)) return `${where}: ${BAD_SIGNATURE}`;
  if (hashBySeq.get(cp.count) !== cp.head) return `${where}: ${unknownHead(cp)}`;
  return undefined;
}

/** Checks every checkpoint in the log against the public key and says how far the log is anchored. */
export function checkCheckpoints(records: readonly AuditRecord[], key: AuditVerifier): Coverage {
  const hashBySeq = new Map<number, string>();
  for (const r of records) if (!hashBySeq.has(r.seq)) hashBySeq.set(r.seq, r.hash);
  const problems: string[] = [];
  let best: SignedCheckpoint | undefined;
  for (const cp of records.filter(isCheckpoint)) {
    const problem = checkpointProblem(cp, hashBySeq, key);
    if (problem) problems.push(problem);
    else if (!best || cp.count >= best.count) best = cp;
  }
  const lastSeq = records.reduce((m, r) => Math.max(m, r.seq), 0);
  if (lastSeq > 0 && !best)
    problems.push(
      `no record is covered by a valid checkpoint signed by key ${key.keyId}: ` +
        'the log was rewritten without the key, or the bot ran without LBCHECK_AUDIT_SIGNING_KEY',
    );
  return {
    covered: best?.count ?? 0,
    ...(best ? { checkpoint: { seq: best.seq, time: best.time, keyId: best.keyId } } : {}),
    unanchored: lastSeq - (best?.seq ?? 0),
    problems,
  };
}

/** A checkpoint kept off the machine (what the webhook received) against the log: truncation and rewrites. */
export function checkOffMachine(records: readonly AuditRecord[], anchor: unknown, key: AuditVerifier): string[] {
  const a = anchor as Partial<CheckpointRecord & { time: string }> | null;
  if (a === null || typeof a !== 'object' || typeof a.head !== 'string' || typeof a.count !== 'number')
    return ['the off-machine checkpoint is not a checkpoint record (JSON with head, count, time, keyId, signature)'];
  const cp = { head: a.head, count: a.count, time: String(a.time), keyId: String(a.keyId) };
  if (cp.keyId !== key.keyId || !key.verify(checkpointPayload(cp), String(a.signature)))
    return [`the off-machine checkpoint of ${cp.time} is not validly signed by key ${key.keyId}`];
  const lastSeq = records.reduce((m, r) => Math.max(m, r.seq), 0);
  if (lastSeq < cp.count)
    return [
      `truncated: the off-machine checkpoint of ${cp.time} covers ${cp.count} records, this log holds only ${lastSeq}`,
    ];
  const atCount = records.find((r) => r.seq === cp.count);
  if (atCount?.hash !== cp.head)
    return [
      `rewritten: record ${cp.count} does not have the hash ` +
        `the off-machine checkpoint of ${cp.time} anchored (${shortHash(cp.head)})`,
    ];
  return [];
}

/** "records 1–840 covered by checkpoint at …; 12 records after the last checkpoint are not yet anchored". */
export function describeCoverage(c: Coverage): string {
  const covered = c.checkpoint ? coveredBy(c.covered, c.checkpoint) : 'no record is covered by a valid checkpoint';
  const after = c.unanchored === 0 ? 'nothing after it' : unanchoredTail(c.unanchored);
  return `${covered}; ${after}`;
}

/** "records 1–840 covered by the checkpoint at … (record 841, key …)". */
function coveredBy(covered: number, cp: NonNullable<Coverage['checkpoint']>): string {
  const records = covered === 1 ? 'record 1' : `records 1–${covered}`;
  return `${records} covered by the checkpoint at ${cp.time} (record ${cp.seq}, key ${cp.keyId})`;
}

/** "12 records after the last checkpoint are not yet anchored". */
function unanchoredTail(count: number): string {
  const one = count === 1;
  return `${count} record${one ? '' : 's'} after the last checkpoint ${one ? 'is' : 'are'} not yet anchored`;
}
