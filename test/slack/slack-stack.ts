// Everything a Slack test or benchmark needs: the lab's inventory with a Slack
// policy, real Redis (unique prefix), the fake Web API, real Bolt, the report
// poster and (optionally) a probe worker.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
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
import { FakeSlack, slackSignature } from './fake-slack.js';

export const SLACK_SECRET = 'lab-signing-secret';

export interface SlackStack {
  fake: FakeSlack;
  slack: RunningSlack;
  backend: Backend;
  audit: AuditLog;
  slash(text: string, opts?: { user?: string; channel?: string; secret?: string; timestamp?: number }): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startSlackStack(lab: Lab, withWorker: boolean, opts: { socketMode?: boolean; fileMaxBytes?: number } = {}): Promise<SlackStack> {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-slack-'));
  const file = writeLabInventory(lab, dir);
  writeFileSync(
    file,
    `${readFileSync(file, 'utf8').split('policy:')[0]}policy:\n  rules:\n    - name: oncall\n      users: [slack:U0ONCALL]\n      groups: [slack:S0NETOPS]\n      channels: [slack:C0INCIDENT]\n      targets: ['*']\n  limits: { perUserPerMinute: 100000, perChannelPerMinute: 100000, inFlightPerTarget: 100000 }\n`,
  );
  const inventory = loadInventory(file);
  const prefix = `lbt-${randomBytes(4).toString('hex')}`;
  const config = readConfig({ REDIS_URL: TEST_REDIS, LBCHECK_PREFIX: prefix, LBCHECK_CONNECT_TIMEOUT_MS: '1000', LBCHECK_SILENT_MS: '2500' });
  const backend = await connectBackend(config, false);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  const audit = new AuditLog(join(dir, 'audit'));
  const fake = await new FakeSlack().start();
  const slack = await startSlack({
    botToken: 'xoxb-lab',
    signingSecret: SLACK_SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    fileMaxBytes: opts.fileMaxBytes ?? 1024 * 1024,
    ...(opts.socketMode ? { appToken: 'xapp-lab' } : {}),
    log,
    intake: (incoming) => handleCommand(incoming, { state: backend.intakeState, bus: backend.bus, inventory: () => inventory, log, prefix: '/lbcheck', audit }),
    policy: () => inventory.policy,
  });
  const closeables: Closeable[] = [startReportPoster(backend, [slack.poster], log, audit)];
  if (withWorker) closeables.push(startCheckWorker(backend, config, () => inventory, log));
  return {
    fake,
    slack,
    backend,
    audit,
    async slash(text, opts = {}) {
      const form = new URLSearchParams({
        token: 'legacy', team_id: 'T0LAB', team_domain: 'lab', channel_id: opts.channel ?? 'C0INCIDENT', channel_name: 'incident',
        user_id: opts.user ?? 'U0ONCALL', user_name: 'oncall', command: '/lbcheck', text, api_app_id: 'A0LAB',
        response_url: `http://127.0.0.1:${fake.port}/respond`, trigger_id: '1.2.3',
      }).toString();
      const res = await fetch(`http://127.0.0.1:${slack.port}/slack/commands`, { method: 'POST', headers: slackSignature(opts.secret ?? SLACK_SECRET, form, opts.timestamp), body: form });
      return { status: res.status, body: await res.text() };
    },
    async close() {
      for (const c of closeables) await c.close();
      await slack.close();
      await fake.close();
      await backend.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
