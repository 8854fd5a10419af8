// Every Slack diagnosis links its check's evidence page (issue 27 item 2): a
// check posted through the report processor and the real WebClient to the fake
// Web API carries the signed link in its diagnosis, and the link serves the page
// (adapters/evidence-http.ts). Without served pages the diagnosis links nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { serveEvidencePages, type RunningEvidencePages } from '../../adapters/evidence-http.js';
import { SlackPoster } from '../../adapters/slack/slack-poster.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { createLogger } from '../../src/log.js';
import { chatRun } from '../evidence/chat-check-runs.js';
import { FakeSlack } from './fake-slack.js';

let fake: FakeSlack;
let dir: string;
let pages: RunningEvidencePages;
let audit: AuditLog;

before(async () => {
  fake = await new FakeSlack().start();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-slack-page-'));
  audit = new AuditLog(join(dir, 'audit'));
  const settings = { port: 0, host: '127.0.0.1', secret: 'slack-page-secret', ttlSeconds: 600 };
  pages = await serveEvidencePages(settings, audit, createLogger('silent'));
});
after(async () => {
  await pages.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const poster = (): SlackPoster =>
  new SlackPoster(new WebClient('xoxb-test', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }), 1 << 20);

/** The diagnosis: the last message posted in the thread. */
function diagnosisBlocks(): string {
  const posts = fake.callsOf('chat.postMessage');
  return posts.at(-1)?.args.blocks ?? '';
}

describe('Slack diagnosis → evidence page', () => {
  it('the diagnosis links the signed evidence page, and the link serves the page of that check', async () => {
    const report = await chatRun(poster(), audit, { platform: 'slack', channel: 'C0INCIDENT' }, pages.link).post(
      'server-blocks-lb',
    );
    const blocks = diagnosisBlocks();
    assert.ok(blocks.includes('Hand to'), 'the last post is the diagnosis');
    const link = /<(http:\/\/127\.0\.0\.1:\d+\/c\/[^|>]+)\|Evidence page>/.exec(blocks)?.[1];
    assert.ok(link, `no evidence page link in the diagnosis: ${blocks}`);
    assert.ok(link.includes(`/c/${report.id}/`) && link.endsWith(`/${report.id}/check.html`));
    const res = await fetch(link);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    assert.ok(html.includes(`<h1>Check ${report.id}: `), 'the page of that check');
    assert.ok(html.includes('For the owning team'));
  });

  it('a bot that serves no pages links none (the page is still archived with the diagnosis)', async () => {
    const report = await chatRun(poster(), audit, { platform: 'slack', channel: 'C0INCIDENT' }).post('servers-hang');
    const blocks = diagnosisBlocks();
    assert.ok(blocks.includes('Hand to'), 'the last post is the diagnosis');
    assert.ok(!blocks.includes('Evidence page'), 'no link to a page nobody serves');
    const final = audit.records().find((r) => r.type === 'post' && r.kind === 'final' && r.checkId === report.id);
    assert.ok(final?.type === 'post' && final.evidence.some((e) => e.name === 'check.html'));
  });
});
