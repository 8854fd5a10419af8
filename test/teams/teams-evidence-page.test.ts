// Every Teams diagnosis links its check's evidence page (issue 27 item 2): a
// check posted through the report processor and botbuilder to the fake
// connector carries an "Evidence page" button (Action.OpenUrl) on its diagnosis
// card, and its URL serves the page (adapters/evidence-http.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveEvidencePages, type RunningEvidencePages } from '../../adapters/evidence-http.js';
import type { RunningTeams } from '../../adapters/teams/teams-app.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createLogger } from '../../src/log.js';
import { chatRun } from '../evidence/chat-check-runs.js';
import { FakeConnector } from './fake-connector.js';
import { startLocalTeams, teamsReference } from './local-teams.js';

const CHANNEL = '19:incident@thread.tacv2';
let connector: FakeConnector;
let teams: RunningTeams;
let dir: string;
let pages: RunningEvidencePages;
let audit: AuditLog;

before(async () => {
  connector = await new FakeConnector().start();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-teams-page-'));
  audit = new AuditLog(join(dir, 'audit'));
  const log = createLogger('silent');
  pages = await serveEvidencePages(
    { port: 0, host: '127.0.0.1', secret: 'teams-page-secret', ttlSeconds: 600 },
    audit,
    log,
  );
  teams = await startLocalTeams({ evidence: (sha) => Promise.resolve(audit.evidence.get(sha)), log });
});
after(async () => {
  await teams.close();
  await pages.close();
  await connector.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Teams diagnosis card → evidence page', () => {
  it('the diagnosis card has an Evidence page button whose URL serves the page of that check', async () => {
    const conversation = `${CHANNEL};messageid=1700000000001`;
    const reference = teamsReference(conversation, connector.serviceUrl, '1700000000001');
    const run = chatRun(teams.poster, audit, { platform: 'teams', channel: CHANNEL, extra: { reference } }, pages.link);
    const report = await run.post('server-blocks-lb');
    const card = connector.sent.at(-1)?.activity.attachments?.[0]?.content as
      { body?: { text?: string }[]; actions?: { type: string; title: string; url?: string }[] } | undefined;
    assert.ok(JSON.stringify(card?.body ?? []).includes('Hand to'), 'the last card is the diagnosis');
    const button = card?.actions?.find((a) => a.type === 'Action.OpenUrl' && a.title.startsWith('Evidence page'));
    assert.ok(button?.url, `no evidence page button: ${JSON.stringify(card?.actions)}`);
    assert.ok(button.url.endsWith(`/${report.id}/check.html`));
    const res = await fetch(button.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.ok((await res.text()).includes(`<h1>Check ${report.id}: `));
    // Posted in the reply chain: the audit record names it as the thread, so its re-runs' pages open from this link.
    const final = audit.records().find((r) => r.type === 'post' && r.kind === 'final' && r.checkId === report.id);
    assert.equal(final?.type === 'post' ? final.thread : undefined, conversation);
  });
});
