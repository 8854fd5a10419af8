// Everything a Teams test or benchmark needs: the lab's inventory with a Teams
// policy, real Redis (unique prefix), the fake Bot Connector, real botbuilder,
// the report poster and (optionally) a probe worker.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startTeams, type RunningTeams } from '../../adapters/teams/teams-app.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { connectBackend, type Backend } from '../../src/runtime/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startCheckWorker } from '../../workers/worker-runtime.js';
import type { Lab } from '../lab/lab.js';
import { deleteKeys, TEST_REDIS, writeLabInventory } from '../pipeline/harness.js';
import { FakeConnector } from './fake-connector.js';

export const LINK_SECRET = 'lab-link-secret';
export const CHANNEL = '19:incident@thread.tacv2';

export interface TeamsStack {
  teams: RunningTeams;
  connector: FakeConnector;
  backend: Backend;
  audit: AuditLog;
  /** Posts a message that @mentions the bot, as Teams would; returns the reply chain's conversation id. */
  mention(text: string, opts?: { user?: string; personal?: boolean }): Promise<{ status: number; conversationId: string }>;
  close(): Promise<void>;
}

export async function startTeamsStack(lab: Lab, withWorker: boolean): Promise<TeamsStack> {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-teams-'));
  const file = writeLabInventory(lab, dir);
  writeFileSync(
    file,
    `${readFileSync(file, 'utf8').split('policy:')[0]}policy:\n  rules:\n    - name: oncall\n      users: [teams:aad-oncall]\n      channels: ["teams:${CHANNEL}"]\n      targets: ['*']\n  limits: { perUserPerMinute: 100000, perChannelPerMinute: 100000, inFlightPerTarget: 100000 }\n`,
  );
  const inventory = loadInventory(file);
  const prefix = `lbt-${randomBytes(4).toString('hex')}`;
  const config = readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix, LBCHECK_CONNECT_TIMEOUT_MS: '1000', LBCHECK_SILENT_MS: '2500' });
  const backend = await connectBackend(config, false);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  const audit = new AuditLog(join(dir, 'audit'));
  const connector = await new FakeConnector().start();
  const teams = await startTeams({
    appId: '',
    appPassword: '',
    port: 0,
    linkSecret: LINK_SECRET,
    linkTtlSeconds: 3600,
    evidence: (sha) => Promise.resolve(audit.evidence.get(sha)),
    log,
    intake: (incoming) => handleCommand(incoming, { state: backend.intakeState, bus: backend.bus, inventory: () => inventory, log, prefix: '@lbcheck', audit }),
  });
  const closeables: Closeable[] = [startReportPoster(backend, [teams.poster], log, audit)];
  if (withWorker) closeables.push(startCheckWorker(backend, config, () => inventory, log));
  let seq = 0;
  return {
    teams,
    connector,
    backend,
    audit,
    async mention(text, opts = {}) {
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
      await res.arrayBuffer();
      return { status: res.status, conversationId };
    },
    async close() {
      for (const c of closeables) await c.close();
      await teams.close();
      await connector.close();
      await backend.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
