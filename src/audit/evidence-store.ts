// Evidence bytes on disk, content-addressed by sha256: <dir>/<ab>/<sha256>.
// Written once (temp file + rename), never modified; pruned by retention.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class EvidenceStore {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Stores bytes under their sha256; returns the hash. A mismatch between claimed and actual hash is refused. */
  put(data: Buffer, claimed?: string): string {
    const sha = createHash('sha256').update(data).digest('hex');
    if (claimed !== undefined && claimed !== sha)
      throw new Error(`evidence bytes do not match their sha256 (claimed ${claimed}, actual ${sha})`);
    const path = this.pathOf(sha);
    if (!existsSync(path)) {
      mkdirSync(join(this.dir, sha.slice(0, 2)), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, path);
    }
    return sha;
  }

  get(sha256: string): Buffer | undefined {
    try {
      return readFileSync(this.pathOf(sha256));
    } catch {
      return undefined;
    }
  }

  /** Deletes files older than the cutoff; returns what it removed. */
  prune(olderThan: Date): { sha256: string; bytes: number }[] {
    const removed: { sha256: string; bytes: number }[] = [];
    if (!existsSync(this.dir)) return removed;
    for (const sub of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of readdirSync(join(this.dir, sub))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const path = join(this.dir, sub, name);
        const st = statSync(path);
        if (st.mtime < olderThan) {
          rmSync(path);
          removed.push({ sha256: name, bytes: st.size });
        }
      }
    }
    return removed;
  }
}
