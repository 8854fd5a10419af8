// The append-only audit log (JSON lines, hash-chained) and the evidence store
// beside it. Appends take a lock file, so several bot processes can write;
// a line torn by a crash is terminated and left for `audit verify` to report.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GENESIS, parseRecord, seal, type AuditBody, type AuditRecord } from './audit-record.js';
import { EvidenceStore } from './evidence-store.js';
import { withFileLock } from './file-lock.js';

export class AuditLog {
  readonly file: string;
  readonly evidence: EvidenceStore;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'audit.jsonl');
    this.evidence = new EvidenceStore(join(dir, 'evidence'));
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

  async append(body: AuditBody): Promise<AuditRecord> {
    mkdirSync(dirname(this.file), { recursive: true });
    return withFileLock(`${this.file}.lock`, () => {
      const { last, torn } = this.tail();
      const record = seal(
        { seq: (last?.seq ?? 0) + 1, time: new Date().toISOString(), prevHash: last?.hash ?? GENESIS },
        body,
      );
      const fd = openSync(this.file, 'a');
      try {
        writeSync(fd, `${torn ? '\n' : ''}${JSON.stringify(record)}\n`);
      } finally {
        closeSync(fd);
      }
      return record;
    });
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
