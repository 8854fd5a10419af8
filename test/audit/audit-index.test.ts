// The audit log's index (src/audit/audit-index.ts): reads only what was appended since its last look, never
// a line still being written, and starts again when the log was replaced by a shorter one.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditBody } from '../../src/audit/audit-record.js';
import { AuditIndex, type IndexedRecord } from '../../src/audit/audit-index.js';

const dir = mkdtempSync(join(tmpdir(), 'lbcheck-audit-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the index holds, worded: a post's summary, a command's text. */
const summaries = (records: readonly IndexedRecord[]): string[] =>
  records.map((r) => (r.type === 'post' ? r.summary : `command ${r.command}`));

const post = (checkId: string, summary: string): AuditBody => ({
  type: 'post',
  checkId,
  kind: 'final',
  summary,
  target: 'web',
  requester: 'console:U0ONCALL',
  platform: 'console',
  channel: 'C0INCIDENT',
  messageIds: [],
  fileIds: [],
  evidence: [],
  commands: [],
  worker: 'w1',
  zone: 'default',
  requestedAt: '2026-12-06T00:00:00.000Z',
});

describe('the audit index', () => {
  it('reads what was appended since its last look, posts and commands, a torn line once it is whole', async () => {
    const log = new AuditLog(join(dir, 'a'));
    const index = new AuditIndex(log.file);
    assert.deepEqual(await index.current(), [], 'no log yet: no posts');
    await log.append(post('chk-00000000a1', 'first — ünïcode'));
    await log.append({
      type: 'command',
      outcome: 'queued',
      command: 'web',
      user: 'U1',
      channel: 'C1',
      platform: 'console',
    });
    assert.deepEqual(summaries(await index.current()), ['first — ünïcode', 'command web']);
    await log.append(post('chk-00000000a2', 'second'));
    // A third record written in two halves: the index sees it only once its line ends.
    const whole = readFileSync(log.file, 'utf8');
    const lastLine = whole.trimEnd().split('\n').at(-1) ?? '';
    const copy = JSON.parse(lastLine) as Record<string, unknown>;
    const third = JSON.stringify({ ...copy, summary: 'third', seq: Number(copy.seq) + 1 });
    appendFileSync(log.file, third.slice(0, 40));
    assert.deepEqual(summaries(await index.current()), ['first — ünïcode', 'command web', 'second']);
    appendFileSync(log.file, `${third.slice(40)}\n`);
    assert.deepEqual(summaries(await index.current()), ['first — ünïcode', 'command web', 'second', 'third']);
  });

  it('a log replaced by a shorter one is read again from its start', async () => {
    const log = new AuditLog(join(dir, 'b'));
    await log.append(post('chk-00000000b1', 'old one'));
    await log.append(post('chk-00000000b2', 'old two'));
    const index = new AuditIndex(log.file);
    assert.equal((await index.current()).length, 2);
    const firstLine = readFileSync(log.file, 'utf8').split('\n')[0] ?? '';
    writeFileSync(log.file, `${firstLine}\n`);
    assert.deepEqual(summaries(await index.current()), ['old one']);
  });
});
