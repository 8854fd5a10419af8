// incident.md quotes what servers wrote (step summaries hold a status line) in table cells, prose and the ladder
// images' alt text, and the user's command in a code span: none of it may form a link, re-point an image or leave
// its code span. The record is appended to a real audit log; the Markdown is read back by pattern.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { PostRecord } from '../../src/audit/audit-record.js';
import { incidentExport } from '../../src/audit/incident-export.js';

const CHECK = 'chk-00000bad01';
const HOSTILE = 'HTTP/1.1 502 ](https://attacker/x.png) [Sign in](https://evil) <img src=x> *b* `c` | cell';
const COMMAND = 'web-vip `--all` ``x``';
let dir: string;
let md: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-incident-md-'));
  const audit = new AuditLog(join(dir, 'audit'));
  const ladder = Buffer.from('a ladder');
  const sha256 = audit.evidence.put(ladder);
  await audit.append({
    type: 'command',
    outcome: 'queued',
    command: COMMAND,
    platform: 'slack',
    user: 'U0ONCALL',
    channel: 'C0INCIDENT',
    checkId: CHECK,
  });
  const post = (kind: PostRecord['kind'], extra: Partial<PostRecord>): PostRecord => ({
    type: 'post',
    checkId: CHECK,
    kind,
    summary: `server said ${HOSTILE}`,
    target: 'web-vip',
    requester: 'U0ONCALL',
    platform: 'slack',
    channel: 'C0INCIDENT',
    thread: '1700000000.000100',
    messageIds: ['1'],
    fileIds: [],
    evidence: [],
    commands: [],
    worker: 'w1',
    zone: 'default',
    requestedAt: new Date().toISOString(),
    ...extra,
  });
  await audit.append(
    post('step', { step: 1, verdict: 'fail', evidence: [{ name: 'step1-ladder.png', sha256, bytes: ladder.length }] }),
  );
  await audit.append(post('final', { culprit: 'server' }));
  md = incidentExport(audit, [CHECK]).markdown;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Markdown's unescaped occurrences of a pattern: preceded by an even number of backslashes (none counts). */
const unescaped = (pattern: string): RegExp => new RegExp(`(?<!\\\\)(?:\\\\\\\\)*${pattern}`);

describe('incident.md: server text and commands stay text', () => {
  it('a summary cannot form a link or end the image’s alt text early, in the table, the prose or the alt text', () => {
    const image = md.split('\n').filter((l) => l.startsWith('!['));
    assert.equal(image.length, 1, md);
    // The image points at its ladder, and its alt text ends only there.
    assert.match(
      image[0] ?? '',
      /^!\[Ladder of step 1 of chk-00000bad01: server said .*\]\(chk-00000bad01\/step1-ladder\.png\)$/,
    );
    assert.doesNotMatch(image[0] ?? '', unescaped('\\]\\((?!chk-00000bad01/step1-ladder\\.png\\)$)'), image[0]);
    for (const l of md.split('\n').filter((x) => x.includes('server said'))) {
      assert.doesNotMatch(l, unescaped('\\[Sign in'), l);
      assert.doesNotMatch(l, unescaped('\\]\\(https://'), l);
      assert.doesNotMatch(l, /<img/, l);
      assert.ok(l.includes('\\[Sign in\\]\\(https://evil\\)'), l);
    }
    // In the timeline the | of the summary is escaped: the row keeps its four cells.
    const row = md.split('\n').find((l) => l.startsWith('|') && l.includes('server said')) ?? '';
    assert.equal(row.split(unescaped('\\|')).length - 1, 5, row);
  });

  it("the user's command stays inside its code span, whatever backticks it holds", () => {
    const asked = /asked by slack:U0ONCALL: (`+)(.*)\1\./.exec(md);
    assert.ok(asked, md);
    const [, fence, content] = asked;
    assert.equal(fence, '```', 'a fence longer than the longest run of backticks inside (two)');
    assert.ok(!new RegExp(`(?<!\`)${fence}(?!\`)`).test(content ?? ''), 'no run of the fence inside closes it early');
    // CommonMark strips one space from each side when both are there (the padding beside a backtick at an end).
    const shown = /^ .* $/.test(content ?? '') ? content?.slice(1, -1) : content;
    assert.equal(shown, COMMAND);
  });
});
