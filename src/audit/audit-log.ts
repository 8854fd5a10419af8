// The append-only audit log (JSON lines, hash-chained) and the evidence store
// beside it. Appends take a lock file, so several bot processes can write;
// a line torn by a crash is terminated and left for `audit verify` to report.
// With a signing key, a signed checkpoint follows every N records or M seconds
// (checkpoint.ts), and each is handed to onCheckpoint to be sent off the machine.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENESIS, parseRecord, seal, type AuditBody, type AuditRecord, type CheckpointRecord } from './audit-record.js';
import { checkpointPayload, type SignedCheckpoint } from './checkpoint.js';
import { EvidenceStore } from './evidence-store.js';
import { AuditLockBusyError, withFileLock } from './file-lock.js';
import { AuditIndex } from './audit-index.js';
import type { AuditSigner } from './signing.js';

export interface CheckpointPolicy {
  signer: AuditSigner;
  /** A checkpoint after this many records since the last one. */
  everyRecords: number;
  /** ... or after this many seconds, when anything was written since (checkpointIfDue, and on append). */
  everySeconds: number;
  /**
   * Called with each checkpoint written (e.g. to send it off the machine); must not reject. Appends do not
   * wait for it; checkpoint() (exports, shutdown) does, so the copy leaves before the process does.
   */
  onCheckpoint?: (checkpoint: SignedCheckpoint) => void | Promise<void>;
}

export class AuditLog {
  readonly file: string;
  readonly evidence: EvidenceStore;
  /** Post and command records, read incrementally: for what answers users while they wait (audit-index.ts). */
  readonly index: AuditIndex;

  /** The newest checkpoint this process knows of (read from the file once, then kept up to date). */
  private lastCheckpoint: { seq: number; at: number } | undefined;

  constructor(
    readonly dir: string,
    readonly checkpoints?: CheckpointPolicy,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'audit.jsonl');
    this.evidence = new EvidenceStore(join(dir, 'evidence'));
    this.index = new AuditIndex(this.file);
  }

  /** The last complete record, and whether the file ends in a torn (partial) line. */
  private tail(): { last: AuditRecord | undefined; torn: boolean } {
    if (!existsSync(this.file)) return { last: undefined, torn: false };
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size === 0) return { last: undefined, torn: false };
      let chunk = 64 * 1024;
      for (;;) {
        const start = Math.max(0, size - chunk);
        const buf = Buffer.alloc(size - start);
        readSync(fd, buf, 0, buf.length, start);
        const text = buf.toString('utf8');
        const torn = !text.endsWith('\n');
        const lines = text.split('\n');
        if (torn) lines.pop();
        const complete = lines.filter((l) => l.trim() !== '');
        for (let i = complete.length - 1; i >= 0; i--) {
          const last = parseRecord(complete[i] ?? '');
          if (last) return { last, torn };
          // an older torn (or otherwise broken) line: keep looking back
        }
        if (start === 0) return { last: undefined, torn };
        chunk *= 4;
      }
    } finally {
      closeSync(fd);
    }
  }

  private write(
    last: AuditRecord | undefined,
    torn: boolean,
    body: AuditBody,
    time = new Date().toISOString(),
  ): AuditRecord {
    const record = seal({ seq: (last?.seq ?? 0) + 1, time, prevHash: last?.hash ?? GENESIS }, body);
    const fd = openSync(this.file, 'a');
    try {
      writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
    } finally {
      closeSync(fd);
    }
    return record;
  }

  /** Signs and writes a checkpoint covering every record up to last (called with the lock held). */
  private writeCheckpoint(last: AuditRecord, reason: CheckpointRecord['reason'], torn = false): SignedCheckpoint {
    const policy = this.checkpoints;
    if (!policy) throw new Error('no audit signing key: set LBCHECK_AUDIT_SIGNING_KEY');
    const time = new Date().toISOString();
    const anchor = { head: last.hash, count: last.seq, time, keyId: policy.signer.keyId };
    const body: CheckpointRecord = {
      type: 'checkpoint',
      head: anchor.head,
      count: anchor.count,
      keyId: anchor.keyId,
      reason,
      signature: policy.signer.sign(checkpointPayload(anchor)),
    };
    const record = this.write(last, torn, body, time) as SignedCheckpoint;
    this.lastCheckpoint = { seq: record.seq, at: Date.parse(time) };
    return record;
  }

  private knownCheckpoint(): { seq: number; at: number } {
    if (!this.lastCheckpoint) {
      const cp = this.records().findLast((r) => r.type === 'checkpoint');
      this.lastCheckpoint = cp ? { seq: cp.seq, at: Date.parse(cp.time) } : { seq: 0, at: Date.now() };
    }
    return this.lastCheckpoint;
  }

  /** Why a checkpoint is due after last, if one is. */
  private due(last: AuditRecord | undefined): CheckpointRecord['reason'] | undefined {
    if (!this.checkpoints || !last || last.type === 'checkpoint') return undefined;
    const known = this.knownCheckpoint();
    const since = last.seq - known.seq;
    if (since >= this.checkpoints.everyRecords) return 'records';
    if (since > 0 && Date.now() - known.at >= this.checkpoints.everySeconds * 1000) return 'time';
    return undefined;
  }

  /** This process's appends, in the order they were asked for (a write waiting on the lock holds the later ones). */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Appends in order and never drops a record: a lock another live process holds past the wait is waited for
   * again (the caller may go on meanwhile, e.g. answer the user first, and await the returned promise later).
   */
  append(body: AuditBody): Promise<AuditRecord> {
    const next = this.queue.then(() => this.appendWaiting(body));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Settles once every append asked for so far is written (or failed for a reason other than the lock). */
  flushed(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async appendWaiting(body: AuditBody): Promise<AuditRecord> {
    for (;;) {
      try {
        return await this.appendNow(body);
      } catch (err) {
        if (!(err instanceof AuditLockBusyError)) throw err;
      }
    }
  }

  private async appendNow(body: AuditBody): Promise<AuditRecord> {
    mkdirSync(dirname(this.file), { recursive: true });
    let checkpoint: SignedCheckpoint | undefined;
    const record = await withFileLock(`${this.file}.lock`, () => {
      const { last, torn } = this.tail();
      // Another process's checkpoint just before this record counts as the last one here too.
      if (last?.type === 'checkpoint') this.lastCheckpoint = { seq: last.seq, at: Date.parse(last.time) };
      const written = this.write(last, torn, body);
      const reason = this.due(written);
      if (reason) checkpoint = this.writeCheckpoint(written, reason);
      return written;
    });
    if (checkpoint) void this.checkpoints?.onCheckpoint?.(checkpoint);
    return record;
  }

  /**
   * Writes a checkpoint now (on export, or when one is due by time: `onlyIfDue`). Undefined when there is
   * nothing new to anchor; the newest checkpoint when it already covers everything.
   */
  async checkpoint(reason: CheckpointRecord['reason'], onlyIfDue = false): Promise<SignedCheckpoint | undefined> {
    if (!this.checkpoints) return undefined;
    mkdirSync(dirname(this.file), { recursive: true });
    let fresh: SignedCheckpoint | undefined;
    const result = await withFileLock(`${this.file}.lock`, () => {
      const { last, torn } = this.tail();
      if (!last) return undefined;
      if (last.type === 'checkpoint') return last;
      const why = this.due(last);
      if (onlyIfDue && !why) return undefined;
      fresh = this.writeCheckpoint(last, onlyIfDue && why ? why : reason, torn);
      return fresh;
    });
    if (fresh) await this.checkpoints.onCheckpoint?.(fresh);
    return result;
  }

  /** Every parseable record, in file order. */
  records(): AuditRecord[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .flatMap((l) => {
        if (l.trim() === '') return [];
        const r = parseRecord(l);
        return r ? [r] : [];
      });
  }
}
