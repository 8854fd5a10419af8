// Teams end to end: Activities POSTed to real botbuilder (CloudAdapter) over
// HTTP, checks on the lab through Redis and BullMQ, replies and cards sent
// through the real connector client to a local fake of the Bot Connector.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { evidenceLinks } from '../../adapters/teams/evidence-links.js';
import { startTeams, type RunningTeams } from '../../adapters/teams/teams-app.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { connectBackend, type Backend } from '../../src/runtime/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startCheckWorker } from '../../workers/worker-runtime.js';
import { startLab, waitHealthy, type Lab } from '../lab/lab.js';
import { deleteKeys, TEST_REDIS, writeLabInventory } from '../pipeline/harness.js';
import { FakeConnector, type SentActivity } from './fake-connector.js';

const LINK_SECRET = 'lab-link-secret';
const CHANNEL = '19:incident@thread.tacv2';
let lab: Lab;
let dir: string;
let backend: Backend;
let teams: RunningTeams;
let connector: FakeConnector;
let audit: AuditLog;
const closeables: Closeable[] = [];
const prefix = `lbt-${randomBytes(4).toString('hex')}`;
let seq = 0;

before(async () => {
  lab = await startLab({ serverCount: 2 });
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-teams-'));
  const file = writeLabInventory(lab, dir);
  writeFileSync(
    file,
    `${readFileSync(file, 'utf8').split('policy:')[0]}policy:\n  rules:\n    - name: oncall\n      users: [teams:aad-oncall]\n      channels: ["teams:${CHANNEL}"]\n      targets: ['*']\n  limits: { perUserPerMinute: 1000, perChannelPerMinute: 1000, inFlightPerTarget: 100 }\n`,
  );
  const inventory = loadInventory(file);
  const config = readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix, LBCHECK_CONNECT_TIMEOUT_MS: '1000', LBCHECK_SILENT_MS: '2500' });
  backend = await connectBackend(config, false);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  audit = new AuditLog(join(dir, 'audit'));
  connector = await new FakeConnector().start();
  teams = await startTeams({
    appId: '',
    appPassword: '',
    port: 0,
    linkSecret: LINK_SECRET,
    linkTtlSeconds: 3600,
    evidence: (sha) => Promise.resolve(audit.evidence.get(sha)),
    log,
    intake: (incoming) => handleCommand(incoming, { state: backend.intakeState, bus: backend.bus, inventory: () => inventory, log, prefix: '@lbcheck', audit }),
  });
  closeables.push(startReportPoster(backend, [teams.poster], log, audit), startCheckWorker(backend, config, () => inventory, log));
});
after(async () => {
  for (const c of closeables) await c.close();
  await teams?.close();
  await connector?.close();
  await backend?.close();
  await deleteKeys(prefix);
  lab?.teardown();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await lab.faults.clear();
  await waitHealthy(lab);
});

/** Posts a channel message that @mentions the bot, as Teams would; returns the reply chain's conversation id. */
async function mention(text: string, opts: { user?: string; personal?: boolean } = {}): Promise<{ status: number; conversationId: string }> {
  const root = `${1_700_000_000_000 + ++seq}`;
  const conversationId = opts.personal ? `a:personal-${seq}` : `${CHANNEL};messageid=${root}`;
  const activity = {
    type: 'message', id: root, timestamp: new Date().toISOString(), serviceUrl: connector.serviceUrl, channelId: 'msteams',
    from: { id: '29:user', name: 'On Call', aadObjectId: opts.user ?? 'aad-oncall' },
    conversation: { id: conversationId, conversationType: opts.personal ? 'personal' : 'channel', tenantId: 'tenant-lab' },
    recipient: { id: '28:lbcheck-bot', name: 'lbcheck' },
    text: opts.personal ? text : `<at>lbcheck</at> ${text}`,
    entities: opts.personal ? [] : [{ type: 'mention', mentioned: { id: '28:lbcheck-bot', name: 'lbcheck' }, text: '<at>lbcheck</at>' }],
    channelData: { tenant: { id: 'tenant-lab' } },
  };
  const res = await fetch(`http://127.0.0.1:${teams.port}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
  return { status: res.status, conversationId };
}

async function until(test: () => boolean, what: string, withinMs = 20_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!test()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; sent: ${connector.sent.map((s) => s.activity.text).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const inChain = (conversationId: string): SentActivity[] => connector.sent.filter((s) => s.conversationId === conversationId);
const card = (s: SentActivity): Record<string, unknown> => s.activity.attachments?.[0]?.content ?? {};

describe('@lbcheck in Teams', () => {
  it('a healthy check: the ack at once in the reply chain, then one Adaptive Card per step and the diagnosis', async () => {
    const { status, conversationId } = await mention('check haproxy-http');
    assert.equal(status, 200);
    await until(() => inChain(conversationId).some((s) => (s.activity.text ?? '').startsWith('Diagnosis')), 'the diagnosis card');
    const chain = inChain(conversationId);
    assert.match(chain[0]?.activity.text ?? '', /^Queued chk-[0-9a-f]{10}: checking haproxy-http/);
    assert.deepEqual(chain.slice(1).map((s) => /^(✔|✘|⚠) Step \d|^Diagnosis/.exec(s.activity.text ?? '')?.[0]), ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'Diagnosis']);
    const step2 = card(chain[2] as SentActivity) as { type: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[]; actions?: { url: string; title: string }[] };
    assert.equal(step2.type, 'AdaptiveCard');
    assert.ok(step2.body.some((b) => b.type === 'FactSet' && b.facts?.some((f) => f.title === 'Mode' && f.value === 'L7 (http proxy)')));
    assert.ok(step2.body.some((b) => b.type === 'TextBlock' && (b.text ?? '').includes('TCP [S]')), 'the decode is shown inline');
    // Evidence links: download works and is byte for byte what the card's sha256 names.
    const pcap = step2.actions?.find((a) => a.title.startsWith('step2-lb.pcap'));
    assert.ok(pcap, 'no pcap link');
    const sha = /\/evidence\/([0-9a-f]{64})\//.exec(pcap.url)?.[1] ?? '';
    const res = await fetch(pcap.url);
    assert.equal(res.status, 200);
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), sha);
    const final = card(chain[4] as SentActivity) as { body: { facts?: { title: string; value: string }[] }[] };
    assert.ok(final.body.some((b) => b.facts?.some((f) => f.title === 'Hand to')));
  });

  it('forged, altered and expired evidence links are refused', async () => {
    const sha = audit.records().flatMap((r) => (r.type === 'post' ? r.evidence : [])).find((e) => e.name.endsWith('.pcap'))?.sha256 ?? assert.fail('no evidence');
    const links = evidenceLinks(`http://127.0.0.1:${teams.port}`, LINK_SECRET, 3600);
    const good = links.url(sha, 'step1-lb.pcap');
    assert.equal((await fetch(good)).status, 200);
    const flipped = good.replace(/([0-9a-f])$/, (c) => (c === '0' ? '1' : '0'));
    assert.notEqual(flipped, good);
    assert.equal((await fetch(flipped)).status, 403, 'an altered signature');
    assert.equal((await fetch(good.replace(/exp=(\d+)/, (_m, e: string) => `exp=${Number(e) + 1000}`))).status, 403, 'a later expiry needs a new signature');
    assert.equal((await fetch(good.replace('step1-lb.pcap', 'step2-lb.pcap'))).status, 403, 'the signature covers the name');
    const forged = evidenceLinks(`http://127.0.0.1:${teams.port}`, 'not-the-secret', 3600).url(sha, 'step1-lb.pcap');
    assert.equal((await fetch(forged)).status, 403);
    const expired = links.url(sha, 'step1-lb.pcap', Date.now() - 2 * 3600 * 1000);
    const r = await fetch(expired);
    assert.equal(r.status, 403);
    assert.match(await r.text(), /expired/);
  });

  it('a failing check and a personal chat: verdicts land in the right chain; refused users get the reason', async () => {
    await lab.faults.dropBeforeLb('nginx');
    const { conversationId } = await mention('check nginx');
    await until(() => inChain(conversationId).some((s) => (s.activity.text ?? '').startsWith('Diagnosis')), 'the diagnosis');
    assert.match(inChain(conversationId).at(-1)?.activity.text ?? '', /^Diagnosis: PATH-TO-LB → network/);
    const stranger = await mention('help', { user: 'aad-stranger', personal: true });
    await until(() => inChain(stranger.conversationId).length > 0, 'the help answer');
    assert.match(inChain(stranger.conversationId)[0]?.activity.text ?? '', /^Usage: @lbcheck <command>/);
    const refused = await mention('check dnat', { user: 'aad-stranger' });
    await until(() => inChain(refused.conversationId).length > 0, 'the refusal');
    assert.match(inChain(refused.conversationId)[0]?.activity.text ?? '', /Refused by the lbcheck policy: you \(teams:aad-stranger\) are not allowed/);
  });

  it('connector 429 and 500: the cards still land once each, in order', async () => {
    const { conversationId } = await mention('check dnat');
    await until(() => inChain(conversationId).length >= 1, 'the ack');
    connector.failNext(429, 1);
    connector.failNext(500);
    await until(() => inChain(conversationId).some((s) => (s.activity.text ?? '').startsWith('Diagnosis')), 'the diagnosis', 40_000);
    assert.deepEqual(inChain(conversationId).slice(1).map((s) => /^(✔|✘|⚠) Step \d|^Diagnosis/.exec(s.activity.text ?? '')?.[0]), ['✔ Step 1', '✔ Step 2', '✔ Step 3', 'Diagnosis']);
  });
});
