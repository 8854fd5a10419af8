// The audit log's lock is never broken while its holder lives (however long
// it holds it), is broken when the holder is dead (kill -9), and `audit
// verify` reports, never crashes on, lines that are JSON but not records.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { AuditLockBusyError, withFileLock } from '../../src/audit/file-lock.js';
import { verifyAudit, verifyChain } from '../../src/audit/verify.js';

const lockModule = fileURLToPath(new URL('../../src/audit/file-lock.js', import.meta.url));
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-lock-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Another process that takes the lock and holds it until killed; resolves once it holds it. */
async function holdLock(path: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const script = `import(${JSON.stringify(lockModule)}).then((m) => m.withFileLock(${JSON.stringify(path)}, () => { console.log('held'); return new Promise(() => setInterval(() => {}, 1000)); }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 15_000;
  while (!out.includes('held') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /held/);
  return {
    pid: child.pid ?? 0,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('the audit lock', () => {
  it('a live holder keeps it, even when it has held it far longer than an append takes', async () => {
    const path = join(dir, 'live.lock');
    const holder = await holdLock(path);
    try {
      // As if held for a minute: age alone must not break it.
      const old = new Date(Date.now() - 60_000);
      utimesSync(path, old, old);
      let ran = false;
      await assert.rejects(
        withFileLock(
          path,
          () => {
            ran = true;
          },
          { waitMs: 300 },
        ),
        (err: Error) => err instanceof AuditLockBusyError && err.message.includes(`process ${holder.pid} on`),
      );
      assert.equal(ran, false, 'ran while another process held the lock');
    } finally {
      await holder.kill();
    }
  });

  it('a holder killed with -9 leaves a lock that the next append breaks', async () => {
    const path = join(dir, 'dead.lock');
    const holder = await holdLock(path);
    await holder.kill();
    assert.ok(existsSync(path));
    assert.equal(await withFileLock(path, () => 'appended', { waitMs: 5000 }), 'appended');
    assert.equal(existsSync(path), false);
  });
});

describe('audit verify on lines that are JSON but not records', () => {
  it('reports null, numbers, arrays and objects without the record fields, and keeps going', async () => {
    const log = new AuditLog(join(dir, 'audit'));
    await log.append({
      type: 'command',
      outcome: 'answered',
      command: 'help',
      platform: 'console',
      user: 'a',
      channel: 'c',
    });
    for (const line of ['null', '42', '[]', '"text"', '{"seq":2}']) appendFileSync(log.file, `${line}\n`);
    // Appends continue the chain after the last real record.
    await log.append({
      type: 'command',
      outcome: 'answered',
      command: 'help',
      platform: 'console',
      user: 'b',
      channel: 'c',
    });
    const result = verifyAudit(log.file, log.evidence);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => /^line (\d+): not a record/.exec(p)?.[1]),
      ['2', '3', '4', '5', '6'],
    );
    assert.equal(result.records, 2);
    assert.equal(log.records().length, 2);
    assert.doesNotThrow(() => verifyChain('null\n'));
  });
});
