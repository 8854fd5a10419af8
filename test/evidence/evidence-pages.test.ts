// A chat check's evidence page served at its signed link (issue 27 item 2), over
// real HTTP: the bot archives check.html with the diagnosis (recorded in the
// final post's audit record) and hands the poster the link; the server answers
// 200 with the page and every file it links, 403 for a bad signature or a check
// of another conversation, 410 once expired, 404 for what the audit log does not
// know; and the served pages load in headless Chromium.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkPageRoute, serveEvidencePages, type RunningEvidencePages } from '../../adapters/evidence-http.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { PostRecord } from '../../src/audit/audit-record.js';
import { checkLinks } from '../../src/evidence/evidence-links.js';
import { createLogger } from '../../src/log.js';
import type { Report } from '../../src/model/report.js';
import { chatRun, ThreadPoster } from './chat-check-runs.js';
import { HARNESS, measureInChromium } from './chromium-harness.js';

const SECRET = 'evidence-page-test-secret';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let audit: AuditLog;
let pages: RunningEvidencePages;
const poster = new ThreadPoster();
let first: Report;
let second: Report;
let elsewhere: Report;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-pages-'));
  audit = new AuditLog(join(dir, 'audit'));
  pages = await serveEvidencePages(
    { port: 0, host: '127.0.0.1', secret: SECRET, ttlSeconds: 3600 },
    audit,
    createLogger('silent'),
  );
  const run = chatRun(
    poster,
    audit,
    { platform: 'console', channel: 'C0INCIDENT', thread: '1700000000.000100' },
    pages.link,
  );
  first = await run.post('healthy-haproxy-http');
  second = await run.post('server-blocks-lb', { rerunOf: first.id });
  elsewhere = await run.post('servers-hang', {
    replyTo: { platform: 'console', channel: 'C0INCIDENT', thread: '1700000000.000999' },
  });
});
after(async () => {
  await pages?.close();
  rmSync(dir, { recursive: true, force: true });
});

const finalRecord = (checkId: string): PostRecord | undefined =>
  audit
    .records()
    .find((r): r is PostRecord & typeof r => r.type === 'post' && r.kind === 'final' && r.checkId === checkId);

async function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; type: string; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { method });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    headers: res.headers,
    body: Buffer.from(await res.arrayBuffer()),
  };
}

describe('evidence pages at signed links', () => {
  it("a link opened before its check's audit record lands is answered once it does, not with 404", async () => {
    // The record (with the page) follows the post that handed out the link by a few milliseconds.
    const checkId = 'chk-0000000a1b';
    const page = Buffer.from('<!doctype html><title>lbcheck chk-0000000a1b</title>');
    const asked = get(pages.link(checkId));
    await new Promise((r) => setTimeout(r, 300));
    audit.evidence.put(page, sha(page));
    await audit.append({
      type: 'post',
      checkId,
      kind: 'final',
      culprit: 'none',
      summary: 'No fault found',
      target: 'web',
      requester: 'console:U0ONCALL',
      platform: 'console',
      channel: 'C0INCIDENT',
      thread: '1700000000.000777',
      messageIds: [],
      fileIds: [],
      evidence: [{ name: 'check.html', sha256: sha(page), bytes: page.length }],
      commands: [],
      worker: 'w1',
      zone: 'default',
      requestedAt: new Date().toISOString(),
    });
    const r = await asked;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, page);
  });

  it('the final post archives check.html, records it in its audit record and gives the diagnosis the link', () => {
    const link = poster.finals.get(second.id);
    assert.ok(link, 'the diagnosis got a page link');
    assert.match(
      link,
      new RegExp(`^http://127\\.0\\.0\\.1:${pages.port}/c/${second.id}/\\d+/[0-9a-f]{64}/${second.id}/check\\.html$`),
    );
    const record = finalRecord(second.id);
    const page = record?.evidence.find((e) => e.name === 'check.html');
    assert.ok(page, 'check.html is in the final post record');
    const bytes = audit.evidence.get(page.sha256);
    assert.ok(bytes && sha(bytes) === page.sha256, 'the page is archived under its sha256');
    const html = bytes.toString('utf8');
    assert.ok(html.includes(`href="../${first.id}/check.html"`), 'the re-run links the check it re-ran');
    assert.match(html, /culprit (none → \S+|\S+ → none)/, 'with what changed');
  });

  it('200: the page (HTML, its CSP), and every link on it resolves: each file by its sha256, the re-run page', async () => {
    const link = poster.finals.get(second.id) ?? '';
    const page = await get(link);
    assert.equal(page.status, 200);
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(sha(page.body), finalRecord(second.id)?.evidence.find((e) => e.name === 'check.html')?.sha256);
    const hrefs = [...page.body.toString('utf8').matchAll(/href="([^"#][^"]*)"/g)].map((m) => m[1] ?? '');
    const files = new Map(second.steps.flatMap((s) => s.evidence).map((e) => [e.name, e.sha256]));
    let checked = 0;
    for (const href of hrefs) {
      assert.doesNotMatch(href, /^[a-z]+:/i, `only relative links: ${href}`);
      const res = await get(new URL(href.replace(/&amp;/g, '&'), link).toString(), 'HEAD');
      assert.equal(res.status, 200, href);
      const name = decodeURIComponent(href.split('/').pop() ?? '');
      if (files.has(name)) assert.equal(res.headers.get('x-sha256'), files.get(name), href);
      checked++;
    }
    assert.ok(checked >= files.size + 2, `${checked} links: every file, report.json and the earlier check's page`);
    const capture = await get(new URL('./step1-lb.pcap', link).toString());
    assert.equal(capture.type, 'application/vnd.tcpdump.pcap');
    assert.match(capture.headers.get('content-disposition') ?? '', /^attachment; filename="step1-lb\.pcap"$/);
    assert.equal(sha(capture.body), files.get('step1-lb.pcap'));
  });

  it('403 for a bad signature or another conversation’s check, 410 once expired, 404 for what is unknown', async () => {
    const link = poster.finals.get(second.id) ?? '';
    const base = new URL(link).origin;
    const signer = checkLinks(base, SECRET, 3600);
    const sig = /\/([0-9a-f]{64})\//.exec(link)?.[1] ?? '';
    const forged = link.replace(sig, `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    assert.equal((await get(forged)).status, 403);
    assert.equal((await get(checkLinks(base, 'another-secret-entirely', 3600).url(second.id))).status, 403);
    const expired = await get(signer.url(second.id, 'check.html', Date.now() - 7200_000));
    assert.equal(expired.status, 410);
    assert.match(expired.body.toString(), /expired/);
    assert.equal((await get(signer.url('chk-0000000000'))).status, 404, 'a check the audit log does not know');
    assert.equal((await get(new URL('./step9-nothing.pcap', link).toString())).status, 404, 'a file it does not have');
    assert.equal((await get(new URL(`../${first.id}/check.html`, link).toString())).status, 200, 'same thread');
    const other = await get(new URL(`../${elsewhere.id}/check.html`, link).toString());
    assert.equal(other.status, 403, 'a check posted in another thread is not opened by this link');
    assert.equal((await get(signer.url(elsewhere.id))).status, 200, 'its own link opens it');
    assert.equal((await get(`${base}/c/${second.id}/1/2/3`)).status, 404);
    assert.equal((await get(`${base}/evidence/x`)).status, 404);
    assert.equal((await get(link, 'POST')).status, 404);
  });

  it('the served pages load in headless Chromium: every ladder decoded, no console message, no script', async () => {
    // The route plugged into another server (as Teams' would), which also serves the measuring harness.
    let links = checkLinks('', SECRET, 3600);
    let route = checkPageRoute(links, audit);
    let frames: string[] = [];
    const server: Server = createServer((req, res) => {
      if (req.url === '/harness.html') res.writeHead(200, { 'content-type': 'text/html' }).end(HARNESS(frames));
      else if (!route(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      links = checkLinks(base, SECRET, 3600);
      route = checkPageRoute(links, audit);
      frames = [first, second].map((r) => new URL(links.url(r.id)).pathname);
      const { measured, consoleLines } = await measureInChromium(`${base}/harness.html`);
      assert.equal(measured.length, 2);
      for (const [i, r] of [first, second].entries()) {
        const m = measured[i];
        assert.ok(m);
        assert.match(m.title, new RegExp(`^lbcheck ${r.id}: `));
        assert.equal(m.steps, r.steps.length);
        const ladders = r.steps.filter((s) => s.evidence.some((e) => e.name.endsWith('-ladder.svg'))).length;
        assert.equal(m.imgs.length, ladders);
        for (const img of m.imgs)
          assert.ok(img.ok && img.width > 100 && img.alt.length > 10, 'a ladder did not decode');
        assert.equal(m.scripts, 0);
        for (const s of ['diagnosis', 'steps', 'files', 'reruns']) assert.ok(m.sections.includes(s), s);
      }
      assert.deepEqual(consoleLines, [], 'no console message, no refused load');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
