// The audit log's post and command records, for what answers users while they wait in the bot process: the
// chat `export` command (inside Slack's 3 s ack), the evidence pages and the incident export. Reading the whole
// log on every request grows with the log and blocks the event loop (every chat's acks) meanwhile; this reads
// only what was appended since its last look, asynchronously, and keeps those records. A log replaced by a
// shorter file (restored, pruned by hand) is read again from the start.
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { parseRecord, type AuditRecord } from './audit-record.js';

/** A post or command record of the audit log (checkpoints and prunes say nothing about checks). */
export type IndexedRecord = Extract<AuditRecord, { type: 'post' | 'command' }>;

const CHUNK = 256 * 1024;

export class AuditIndex {
  private offset = 0;
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private records: IndexedRecord[] = [];
  private reading: Promise<void> | undefined;

  constructor(private readonly file: string) {}

  /** Every post and command record in the log now (what was appended since the last call is read first). */
  async current(): Promise<readonly IndexedRecord[]> {
    // Callers meanwhile share one read; a caller that comes after it reads again.
    this.reading ??= this.catchUp().finally(() => (this.reading = undefined));
    await this.reading;
    return this.records;
  }

  private async catchUp(): Promise<void> {
    let fh;
    try {
      fh = await open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.restart();
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size < this.offset) this.restart();
      const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, size - this.offset)));
      while (this.offset < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.ingest(this.decoder.write(buf.subarray(0, bytesRead)));
      }
    } finally {
      await fh.close();
    }
  }

  /** Complete lines become records; a line still being written waits for its end. */
  private ingest(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const r = line.trim() === '' ? undefined : parseRecord(line);
      if (r?.type === 'post' || r?.type === 'command') this.records.push(r);
    }
  }

  private restart(): void {
    this.offset = 0;
    this.decoder = new StringDecoder('utf8');
    this.partial = '';
    this.records = [];
  }
}
