// status, history and the unknown-target answer show only what the asker may
// see: checks from the channel they are in, of targets they may check, or
// their own; admins see all. Real Redis and BullMQ, no worker (checks stay queued).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InventoryHolder } from '../../src/inventory/inventory-holder.js';
import { createLogger } from '../../src/log.js';
import { handleCommand, type Incoming, type IntakeDeps } from '../../src/pipeline/intake.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { deleteKeys, TEST_REDIS } from '../pipeline/harness.js';

const FP = `SHA256:${'a'.repeat(43)}`;
const inventoryYaml = `
loadBalancers:
  edge: { ssh: "ssh://root@198.18.200.2", identity: /nonexistent/key, hostKey: "${FP}" }
vips:
  web-vip: { address: 198.18.201.1, port: 80, lb: edge }
  db-vip: { address: 198.18.201.3, port: 5432, lb: edge, protocol: tcp }
  secret-vip: { address: 198.18.201.9, port: 80, lb: edge }
policy:
  admins: [slack:UADMIN]
  rules:
    - name: web
      users: [slack:UWEB, slack:UADMIN]
      channels: [slack:CWEB]
      targets: [web-vip]
    - name: db
      users: [slack:UDB]
      channels: [slack:CDB]
      targets: [db-vip]
    - name: db-channel-readers
      users: [slack:UREADER]
      channels: [slack:CDB]
      targets: [web-vip]
`;

let dir: string;
let backend: Backend;
let holder: InventoryHolder;
let deps: IntakeDeps;
let dbCheck: string;
let webCheck: string;
const prefix = `lbv-${randomBytes(4).toString('hex')}`;

const who = (user: string, channel: string): Omit<Incoming, 'text'> => ({
  requester: { platform: 'slack', id: user },
  replyTo: { platform: 'slack', channel },
});
const send = (w: Omit<Incoming, 'text'>, text: string): Promise<{ kind: string; text: string }> =>
  handleCommand({ ...w, text }, deps);
const queuedId = (text: string): string => /Queued (chk-[0-9a-f]{10})/.exec(text)?.[1] ?? assert.fail(text);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-visibility-'));
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, inventoryYaml);
  holder = new InventoryHolder(file, createLogger('silent'));
  backend = await connectBackend(readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix }), false);
  deps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory: () => holder.current,
    log: createLogger('silent'),
    prefix: '/lbcheck',
  };
  dbCheck = queuedId((await send(who('UDB', 'CDB'), 'db-vip')).text);
  webCheck = queuedId((await send(who('UWEB', 'CWEB'), 'web-vip')).text);
});
after(async () => {
  await backend.close();
  await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('what status and history show', () => {
  it('a user allowed only web-vip in one channel sees neither the db check nor its id', async () => {
    const web = who('UWEB', 'CWEB');
    const status = await send(web, 'status');
    assert.match(status.text, new RegExp(webCheck));
    assert.doesNotMatch(status.text, new RegExp(dbCheck));
    assert.doesNotMatch(status.text, /db-vip/);
    const one = await send(web, `status ${dbCheck}`);
    assert.equal(one.kind, 'refused');
    assert.match(one.text, new RegExp(`^no check ${dbCheck} \\(it may have expired\\)`));
    assert.doesNotMatch((await send(web, 'history')).text, /db-vip/);
    assert.equal((await send(web, 'history db-vip')).text, 'No checks of db-vip yet.');
    // Not even whose it is, through cancel.
    assert.equal((await send(web, `cancel ${dbCheck}`)).text, `no check ${dbCheck}`);
  });

  it('checks asked for in the channel one is in are visible, whatever their target', async () => {
    const reader = who('UREADER', 'CDB');
    assert.match((await send(reader, 'status')).text, new RegExp(dbCheck));
    assert.match((await send(reader, `status ${dbCheck}`)).text, new RegExp(`^${dbCheck} · db-vip · queued`));
    assert.match((await send(reader, 'history db-vip')).text, new RegExp(dbCheck));
  });

  it('an admin sees every check', async () => {
    const admin = who('UADMIN', 'CWEB');
    const status = await send(admin, 'status');
    assert.match(status.text, new RegExp(dbCheck));
    assert.match(status.text, new RegExp(webCheck));
    assert.match((await send(admin, `status ${dbCheck}`)).text, new RegExp(`^${dbCheck} · db-vip`));
  });

  it('an unknown target lists only the names the user may check', async () => {
    const r = await send(who('UWEB', 'CWEB'), 'nope-vip');
    assert.equal(r.kind, 'refused');
    assert.match(r.text, /unknown target "nope-vip"\. Known targets: web-vip; or give ip:port/);
    assert.doesNotMatch(r.text, /db-vip|secret-vip/);
  });
});
