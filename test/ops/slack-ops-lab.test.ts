// The bot side's ops port with real Bolt against the fake Slack Web API on the
// lab: /readyz asks Slack (auth.test) whether the bot token is good, Bolt's own
// log lines land in lbcheck's JSON log, and a Slack check moves the command,
// post (posted and retried) and check counters by the right amounts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { startBotOps } from '../../adapters/ops-endpoint.js';
import { startSlack, type RunningSlack } from '../../adapters/slack/slack-app.js';
import { createLogger } from '../../src/log.js';
import type { RunningOps } from '../../src/ops/ops-server.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import { startLab, type Lab } from '../lab/lab.js';
import { startPlatformBase, type PlatformBase } from '../pipeline/platform-base.js';
import { FakeSlack, slackSignature, slashCommandForm } from '../slack/fake-slack.js';
import { getJson, until } from './ops-process.js';
import { sample, scrape, type Sample } from './scrape.js';

const SECRET = 'ops-lab-signing-secret';
let lab: Lab;
let base: PlatformBase;
let fake: FakeSlack;
let slack: RunningSlack;
let ops: RunningOps | undefined;
let dir: string;
let logFile: string;
const closeables: Closeable[] = [];

before(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-slack-ops-'));
  logFile = join(dir, 'bot.log');
  base = await startPlatformBase(lab, '/lbcheck', ['users: [slack:U0ONCALL]', 'channels: [slack:C0INCIDENT]']);
  const log = createLogger({ file: logFile });
  fake = await new FakeSlack().start();
  slack = await startSlack({
    botToken: 'xoxb-ops-lab',
    signingSecret: SECRET,
    apiUrl: fake.apiUrl,
    port: 0,
    fileMaxBytes: 1024 * 1024,
    log,
    intake: (incoming) => handleCommand(incoming, { ...base.intakeDeps, log }),
  });
  closeables.push(startReportPoster(base.backend, [slack.poster], log, base.audit));
  closeables.push(startCheckWorker(base.backend, base.config, () => base.inventory, log));
  ops = await startBotOps(
    {
      process: 'serve',
      config: base.config,
      ops: { port: 0, portExplicit: true, host: '127.0.0.1' },
      backend: base.backend,
      holder: undefined,
      platforms: [
        {
          id: 'slack',
          started: {
            poster: slack.poster,
            endpoint: '',
            readiness: async () => {
              const problem = await slack.authProblem();
              return problem
                ? { ok: false, detail: problem }
                : { ok: true, detail: 'Slack: bot token accepted (auth.test)' };
            },
            close: () => slack.close(),
          },
        },
      ],
      log,
    },
    false,
  );
});
after(async () => {
  await ops?.close();
  for (const c of closeables) await c.close();
  await slack?.close();
  await fake?.close();
  await base?.close();
  lab?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

async function slash(text: string, secret = SECRET): Promise<number> {
  const form = slashCommandForm(text, fake.port);
  const res = await fetch(`http://127.0.0.1:${slack.port}/slack/commands`, {
    method: 'POST',
    headers: slackSignature(secret, form),
    body: form,
  });
  await res.text();
  return res.status;
}

const url = (): string => ops?.url ?? assert.fail('the ops port did not start');

describe('Slack on the ops port', { timeout: 90_000 }, () => {
  it('/readyz asks Slack whether the bot token is accepted', async () => {
    const ready = await getJson(`${url()}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const platform = (ready.body.checks as Record<string, { ok: boolean; detail: string }>).platform;
    assert.equal(platform?.detail, 'Slack: bot token accepted (auth.test)');
    assert.ok(fake.callsOf('auth.test').length >= 1, 'auth.test was called');
  });

  it("Bolt's own warnings are JSON lines in lbcheck's log", async () => {
    assert.equal(await slash('help', 'not-the-secret'), 401);
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const bolt = lines.find((l) => String(l.source).startsWith('bolt'));
    assert.ok(bolt, `no Bolt line in:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    assert.equal(bolt.level, 'warn');
    assert.match(String(bolt.msg), /verify/i);
  });

  it('a check from Slack moves commands, posts (one retried after a 500) and checks by the right amounts', async () => {
    const before = await scrape(url());
    const delta = (after: Sample[], name: string, labels: Record<string, string>): number =>
      (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    fake.failNext('chat.postMessage', 500);
    assert.equal(await slash('haproxy-http'), 200);
    const m = await until(async () => {
      const s = await scrape(url());
      return delta(s, 'lbcheck_posts_total', { platform: 'slack', outcome: 'posted' }) === 5 ? s : undefined;
    }, 'the parent (posted when queued), three steps and the diagnosis posted to Slack');
    assert.equal(delta(m, 'lbcheck_commands_total', { platform: 'slack', outcome: 'queued' }), 1);
    assert.equal(delta(m, 'lbcheck_posts_total', { platform: 'slack', outcome: 'retried' }), 1);
    assert.equal(delta(m, 'lbcheck_posts_total', { platform: 'slack', outcome: 'failed' }), 0);
    assert.equal(delta(m, 'lbcheck_checks_total', { culprit: 'none', platform: 'slack', zone: 'default' }), 1);
    assert.equal(sample(m, 'bullmq_job_count', { queue: 'reports-slack', state: 'completed' }), 5);
  });
});
