// The incident export (issue 27 item 3): the checks of a thread, from the audit
// log alone, as one Markdown document and the HTML page set. A thread with a
// re-run lists both checks and what changed; a check in another thread is left
// out; `lbcheck audit export --incident` writes it to a folder whose pages'
// links resolve on disk.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { incidentExport } from '../../src/audit/incident-export.js';
import { auditMain } from '../../src/cli/audit-command.js';
import type { Report } from '../../src/model/report.js';
import { chatRun, ThreadPoster } from '../evidence/chat-check-runs.js';

const THREAD = '1700000000.000100';
let dir: string;
let audit: AuditLog;
let first: Report;
let second: Report;
let elsewhere: Report;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-incident-'));
  audit = new AuditLog(join(dir, 'audit'));
  const run = chatRun(new ThreadPoster(), audit, { platform: 'console', channel: 'C0INCIDENT', thread: THREAD });
  first = await run.post('healthy-haproxy-http');
  await audit.append({
    type: 'command',
    outcome: 'queued',
    command: 'web --all',
    platform: 'slack',
    user: 'U0ONCALL',
    userName: 'On Call',
    channel: 'C0INCIDENT',
    checkId: first.id,
  });
  second = await run.post('server-blocks-lb', { rerunOf: first.id, requester: 'U0SECOND' });
  elsewhere = await run.post('servers-hang', {
    replyTo: { platform: 'console', channel: 'C0INCIDENT', thread: 'other' },
  });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('incident export', () => {
  it('a thread with a re-run lists both checks, who asked, the culprit change and what changed', () => {
    const incident = incidentExport(audit, [second.id]);
    assert.deepEqual(incident.checks, [first.id, second.id], 'both checks of the thread, oldest first');
    const md = incident.markdown;
    assert.ok(!md.includes(elsewhere.id), 'a check of another thread is not part of it');
    assert.ok(md.includes(`### ${first.id}`) && md.includes(`### ${second.id}`));
    assert.ok(md.includes('slack:U0ONCALL (On Call): `web --all`'), 'who asked the first');
    assert.ok(md.includes('console:U0SECOND'), 'who asked the re-run');
    const change = `\`${first.id}\` → \`${second.id}\`: culprit ${first.diagnosis.culprit} → ${second.diagnosis.culprit}`;
    assert.ok(md.includes(change), md);
    assert.match(md, /\n {2}- \S/, 'the diff between them, line by line');
    assert.ok(md.includes(`[${second.id}/check.html](${second.id}/check.html)`), 'each page linked');
    const ladder = /!\[Ladder of step 1 of chk-[0-9a-f]+: [^\]]+\]\((chk-[0-9a-f]+\/step1-ladder\.(png|svg))\)/.exec(
      md,
    );
    assert.ok(ladder, 'the ladders as images');
    assert.ok(incident.files.some((f) => f.path === ladder[1]));
    const pcap = second.steps[0]?.evidence.find((e) => e.name === 'step1-lb.pcap');
    assert.ok(pcap && md.includes(`| step1-lb.pcap | ${pcap.bytes} | \`${pcap.sha256}\` |`), 'the evidence hashes');
    assert.deepEqual(incident.missing, []);
  });

  it('a thread id names the same incident; an unknown id names none', () => {
    assert.deepEqual(incidentExport(audit, [THREAD]).checks, [first.id, second.id]);
    assert.deepEqual(incidentExport(audit, ['chk-0000000000']).checks, []);
  });

  it('lbcheck audit export --incident writes incident.md and the page set; the pages’ links resolve on disk', async () => {
    const out = join(dir, 'out');
    const code = await auditMain(['export', '--incident', first.id, '--out', out, '--dir', join(dir, 'audit')]);
    assert.equal(code, 0);
    const md = readFileSync(join(out, 'incident.md'), 'utf8');
    assert.ok(md.includes(second.id));
    for (const id of [first.id, second.id]) {
      const page = join(out, id, 'check.html');
      const html = readFileSync(page, 'utf8');
      const hrefs = [...html.matchAll(/href="([^"#][^"]*)"/g)].map((m) => m[1] ?? '');
      assert.ok(hrefs.length > 3);
      for (const href of hrefs)
        assert.ok(existsSync(resolve(dirname(page), decodeURIComponent(href))), `${id}: ${href} is missing`);
    }
    assert.ok(existsSync(join(out, second.id, 'step1-lb.pcap')));
    await assert.rejects(
      auditMain(['export', '--incident', 'nothing-here', '--out', out, '--dir', join(dir, 'audit')]),
    );
  });
});
