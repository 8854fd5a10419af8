// The chat command `export` (issue 27 item 3, the chat part): typed in a check's thread (or naming a check), it
// answers with a signed link to the incident export, which the evidence pages render on request over real HTTP:
// 200 with incident.md listing both checks of a thread with a re-run, and its page set under it; 403 for a bad
// signature, 410 once expired, 404 for what the audit log does not hold. Without the pages served, the answer
// says how to get it on the bot host; a user who may not read the thread's checks gets neither.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveEvidencePages, type RunningEvidencePages } from '../../adapters/evidence-http.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { incidentLinks, incidentSegment } from '../../src/evidence/evidence-links.js';
import { InventoryHolder } from '../../src/inventory/inventory-holder.js';
import { createLogger } from '../../src/log.js';
import type { Report } from '../../src/model/report.js';
import { MemoryBus } from '../../src/pipeline/memory-bus.js';
import { MemoryState } from '../../src/pipeline/memory-state.js';
import { handleCommand, type Incoming, type IntakeDeps } from '../../src/pipeline/intake.js';
import { chatRun, ThreadPoster } from './chat-check-runs.js';

const SECRET = 'incident-page-test-secret';
const THREAD = '1700000000.000100';
const FP = `SHA256:${'a'.repeat(43)}`;
const inventoryYaml = `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "${FP}" }
vips:
  web: { address: 198.18.201.1, port: 80, lb: edge }
  db-vip: { address: 198.18.201.3, port: 5432, lb: edge, protocol: tcp }
policy:
  rules:
    - name: oncall
      users: [console:U0ONCALL]
      channels: [console:C0INCIDENT]
      targets: [web]
    - name: db
      users: [console:UDB]
      channels: [console:CDB]
      targets: [db-vip]
`;

let dir: string;
let audit: AuditLog;
let pages: RunningEvidencePages;
let holder: InventoryHolder;
let deps: IntakeDeps;
let first: Report;
let second: Report;
let elsewhere: Report;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-incident-'));
  writeFileSync(join(dir, 'inventory.yaml'), inventoryYaml);
  holder = new InventoryHolder(join(dir, 'inventory.yaml'), createLogger('silent'));
  audit = new AuditLog(join(dir, 'audit'));
  pages = await serveEvidencePages(
    { port: 0, host: '127.0.0.1', secret: SECRET, ttlSeconds: 3600 },
    audit,
    createLogger('silent'),
  );
  const run = chatRun(new ThreadPoster(), audit, { platform: 'console', channel: 'C0INCIDENT', thread: THREAD });
  first = await run.post('healthy-haproxy-http');
  second = await run.post('server-blocks-lb', { rerunOf: first.id });
  elsewhere = await run.post('servers-hang', {
    replyTo: { platform: 'console', channel: 'C0INCIDENT', thread: '1700000000.000999' },
  });
  deps = {
    state: new MemoryState(),
    bus: new MemoryBus(),
    inventory: () => holder.current,
    log: createLogger('silent'),
    prefix: '/lbcheck',
    audit,
    incidentLink: pages.incidentLink,
  };
});
after(async () => {
  await pages?.close();
  holder?.close();
  rmSync(dir, { recursive: true, force: true });
});

const oncall = (thread?: string): Omit<Incoming, 'text'> => ({
  requester: { platform: 'console', id: 'U0ONCALL' },
  replyTo: { platform: 'console', channel: 'C0INCIDENT', ...(thread ? { thread } : {}) },
});
const linkIn = (text: string): string => /(http:\/\/\S+\/incident\.md)/.exec(text)?.[1] ?? assert.fail(text);

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('export: the incident export from chat', () => {
  it('typed in a thread, answers a link whose incident.md lists both checks of the thread and not the other', async () => {
    const reply = await handleCommand({ ...oncall(THREAD), text: 'export' }, deps);
    assert.equal(reply.kind, 'info', reply.text);
    assert.match(reply.text, new RegExp(`2 checks: ${first.id}, ${second.id}`));
    const page = await get(linkIn(reply.text));
    assert.equal(page.status, 200, page.body);
    assert.match(page.type, /^text\/plain/);
    assert.match(page.body, /^# Incident: 2 checks/);
    assert.ok(page.body.includes(`### ${first.id}`) && page.body.includes(`### ${second.id}`), page.body);
    assert.ok(!page.body.includes(elsewhere.id), 'a check of another thread is not in this incident');
    const checkPage = await get(linkIn(reply.text).replace(/incident\.md$/, `${second.id}/check.html`));
    assert.equal(checkPage.status, 200);
    assert.match(checkPage.type, /^text\/html/);
  });

  it('with a check id, exports that check’s thread; the audit log records the command', async () => {
    const reply = await handleCommand({ ...oncall(), text: `export ${first.id}` }, deps);
    assert.equal(reply.kind, 'info', reply.text);
    assert.match(reply.text, new RegExp(`the thread of ${first.id} \\(2 checks`));
    assert.equal((await get(linkIn(reply.text))).status, 200);
    const recorded = audit.records().filter((r) => r.type === 'command' && r.command === `export ${first.id}`);
    assert.equal(recorded.length, 1);
  });

  it('without a thread or an id, a usage error names what to give', async () => {
    const reply = await handleCommand({ ...oncall(), text: 'export' }, deps);
    assert.equal(reply.kind, 'refused');
    assert.match(reply.text, /give a check id/);
    assert.match(reply.text, /\/lbcheck export <check-id>/);
  });

  it('without the evidence pages served, says how to get it on the bot host', async () => {
    const { incidentLink: _served, ...unserved } = deps;
    const reply = await handleCommand({ ...oncall(THREAD), text: 'export' }, unserved);
    assert.equal(reply.kind, 'info');
    assert.match(reply.text, /LBCHECK_EVIDENCE_PORT is unset/);
    assert.ok(reply.text.endsWith(`lbcheck audit export --incident ${THREAD}`), reply.text);
  });

  it('answers within the ack budget while the audit log is still being read, saying to ask again', async () => {
    // A first read of a large log after a restart, still running: Slack drops an answer later than 3 s.
    const reading = new AuditLog(join(dir, 'audit'));
    Object.defineProperty(reading, 'index', { value: { current: () => new Promise(() => undefined) } });
    // The read never ends here: an answer at all proves the wait is bounded (by AUDIT_READ_BUDGET_MS).
    const reply = await handleCommand({ ...oncall(THREAD), text: 'export' }, { ...deps, audit: reading });
    assert.equal(reply.kind, 'refused', reply.text);
    assert.match(reply.text, /still being read .*ask again in a few seconds/);
  });

  it('a user who may not read the thread’s checks gets no link, worded like no check', async () => {
    const db = { requester: { platform: 'console', id: 'UDB' }, replyTo: { platform: 'console', channel: 'CDB' } };
    const reply = await handleCommand({ ...db, text: `export ${first.id}` }, deps);
    assert.equal(reply.kind, 'refused', reply.text);
    assert.match(reply.text, /no checks in the thread of chk-/);
    assert.doesNotMatch(reply.text, /http/);
    const unknown = await handleCommand({ ...oncall(), text: 'export chk-0000000000' }, deps);
    assert.equal(unknown.kind, 'refused');
  });

  it('403 for a bad signature, 410 once expired, 404 for ids the audit log holds no check of', async () => {
    const base = `http://127.0.0.1:${pages.port}`;
    const signer = incidentLinks(base, SECRET, 3600);
    const good = signer.url([THREAD]);
    assert.equal((await get(good)).status, 200);
    const forged = good.replace(incidentSegment([THREAD]), incidentSegment(['1700000000.000999']));
    assert.equal((await get(forged)).status, 403, 'the signature covers the ids');
    assert.equal((await get(incidentLinks(base, 'another-secret', 3600).url([THREAD]))).status, 403);
    const expired = await get(signer.url([THREAD], 'incident.md', Date.now() - 7200_000));
    assert.equal(expired.status, 410);
    assert.match(expired.body, /expired/);
    assert.equal((await get(signer.url(['1600000000.000000']))).status, 404);
    assert.equal((await get(good.replace(/incident\.md$/, `${first.id}/no-such.txt`))).status, 404);
  });
});
