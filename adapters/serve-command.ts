// `lbcheck serve` (bot side: adapters + report poster) and `lbcheck start`
// (bot and a probe worker in one process, for a single machine; `npm start`).
// With no Slack/Teams credentials the platform is the console.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { AuditLog } from '../src/audit/audit-log.js';
import { CliUsageError } from '../src/cli/cli-errors.js';
import { InventoryHolder } from '../src/inventory/inventory-holder.js';
import type { Inventory } from '../src/inventory/inventory-types.js';
import { policyWarnings } from '../src/policy/load-policy.js';
import { DEFAULT_LIMITS } from '../src/policy/policy-types.js';
import { createLogger, type Logger } from '../src/log.js';
import { handleCommand } from '../src/pipeline/intake.js';
import { safeRedisUrl } from '../src/pipeline/job-bus.js';
import { connectBackend } from '../src/runtime/backend.js';
import { readConfig } from '../src/runtime/env-config.js';
import { untilSignal } from '../src/runtime/until-signal.js';
import { startCheckWorker } from '../workers/worker-runtime.js';
import { startReportPoster } from './bot-runtime.js';
import { ConsoleAdapter } from './console/console-adapter.js';
import { slackOptionsFromEnv, startSlack } from './slack/slack-app.js';
import { startTeams } from './teams/teams-app.js';
import { teamsOptionsFromEnv } from './teams/teams-env.js';

function logger(process: string): { log: Logger; where: string } {
  const target = globalThis.process.env.LBCHECK_LOG ?? '.lbcheck/lbcheck.log';
  if (target === 'stderr') return { log: createLogger('stderr', { process }), where: 'stderr' };
  const file = resolve(target);
  mkdirSync(dirname(file), { recursive: true });
  return { log: createLogger({ file }, { process }), where: file };
}

async function serve(args: string[], withWorker: boolean): Promise<number> {
  if (args.length > 0)
    throw new CliUsageError(`unexpected ${args.join(' ')}`, `Usage: lbcheck ${withWorker ? 'start' : 'serve'}`);
  const config = readConfig();
  // Every check of the environment before anything that keeps the process alive (a watcher, a Redis connection).
  const slackOptions = slackOptionsFromEnv(process.env);
  const teamsOptions = teamsOptionsFromEnv(process.env);
  const { log, where } = logger(withWorker ? 'start' : 'serve');
  const holder = config.inventoryFile ? new InventoryHolder(config.inventoryFile, log).watch() : undefined;
  const inventory = (): Inventory | undefined => holder?.current;
  const backend = await connectBackend(config, withWorker, log).catch((err: unknown) => {
    holder?.close();
    throw err;
  });
  const out = process.stdout;
  const say = (line: string): boolean => out.write(`${line}\n`);
  const platforms = [
    ...(slackOptions ? [`Slack (${slackOptions.appToken ? 'Socket Mode' : `HTTP on port ${slackOptions.port}`})`] : []),
    ...(teamsOptions
      ? [
          `Teams (port ${teamsOptions.port}${teamsOptions.local ? ', UNAUTHENTICATED local mode (TEAMS_LOCAL=1): 127.0.0.1 only' : ''})`,
        ]
      : []),
  ];
  say(
    `lbcheck ${withWorker ? 'bot + worker' : 'bot'} · platform: ${platforms.join(' + ') || 'console (no SLACK_BOT_TOKEN or MicrosoftAppId set)'}`,
  );
  if (backend.mode === 'embedded') {
    say(
      `queue: in-process (no Redis answered at ${safeRedisUrl(config.redisUrl)} and REDIS_URL is not set); queued checks live only in this process`,
    );
  } else {
    say(`queue: Redis at ${safeRedisUrl(config.redisUrl)} (prefix ${config.prefix})`);
    if (!config.jobKey)
      say(
        'WARNING: LBCHECK_JOB_KEY is not set: queued jobs are not sealed, so whoever can write to this Redis can queue checks and posts (set the same key on bot and workers)',
      );
  }
  const inv = inventory();
  say(
    inv
      ? `inventory: ${inv.file} (${inv.vips.size} targets: ${[...inv.vips.keys()].join(', ')}; reloaded when the file changes)`
      : 'inventory: none (set LBCHECK_CONFIG); only ip:port targets',
  );
  for (const w of policyWarnings(
    inv?.policy ?? { rules: [], admins: [], contact: '', limits: DEFAULT_LIMITS, absent: true },
  ))
    say(`WARNING: ${w}`);
  say(`evidence: ${resolve(config.evidenceDir)} · audit: ${resolve(config.auditDir)} · logs: ${where}`);

  const audit = new AuditLog(config.auditDir);
  const intakeDeps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory,
    log,
    prefix: '/lbcheck',
    queueLabel: safeRedisUrl(config.redisUrl),
    audit,
  };
  if (slackOptions || teamsOptions) {
    const slack = slackOptions
      ? await startSlack({
          ...slackOptions,
          log,
          intake: (incoming) => handleCommand(incoming, intakeDeps),
          policy: () => inventory()?.policy,
          claimOnce: (key, ttl) => backend.intakeState.claimOnce(key, ttl),
        })
      : undefined;
    const teams = teamsOptions
      ? await startTeams({
          ...teamsOptions,
          log,
          intake: (incoming) => handleCommand(incoming, { ...intakeDeps, prefix: '@lbcheck' }),
          evidence: (sha) => Promise.resolve(audit.evidence.get(sha)),
        })
      : undefined;
    const poster = startReportPoster(
      backend,
      [...(slack ? [slack.poster] : []), ...(teams ? [teams.poster] : [])],
      log,
      audit,
    );
    const worker = withWorker ? startCheckWorker(backend, config, inventory, log) : undefined;
    if (slack)
      say(
        slack.port !== undefined
          ? `Slack request URL: http(s)://<this host>:${slack.port}/slack/commands`
          : 'Slack Socket Mode connected',
      );
    if (teams)
      say(
        teams.authenticated
          ? `Teams messaging endpoint: ${teamsOptions?.publicUrl ?? ''}/api/messages (port ${teams.port})`
          : `Teams messaging endpoint: http://127.0.0.1:${teams.port}/api/messages (unauthenticated: set MicrosoftAppId/MicrosoftAppPassword for real Teams)`,
      );
    log.log('info', 'started', { mode: backend.mode, worker: withWorker, slack: !!slack, teams: !!teams });
    await untilSignal();
    await slack?.close();
    await teams?.close();
    await worker?.close();
    await poster.close();
    await backend.close();
    holder?.close();
    return 0;
  }
  say('Type /lbcheck help. quit or Ctrl-D leaves.');
  const consoleAdapter = new ConsoleAdapter({
    input: process.stdin,
    output: out,
    evidenceDir: config.evidenceDir,
    user: userInfo().username,
    intake: (incoming) => handleCommand(incoming, intakeDeps),
    ...(process.stdin.isTTY ? { prompt: 'lbcheck> ' } : {}),
  });
  const poster = startReportPoster(backend, [consoleAdapter], log, audit);
  const worker = withWorker ? startCheckWorker(backend, config, inventory, log) : undefined;
  log.log('info', 'started', { mode: backend.mode, worker: withWorker });
  await consoleAdapter.run();
  // Let reports already queued for this console print before leaving.
  await waitForInFlight(backend, 60_000);
  await worker?.close();
  await poster.close();
  await backend.close();
  holder?.close();
  return 0;
}

async function waitForInFlight(backend: Awaited<ReturnType<typeof connectBackend>>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const flying = await backend.state.inFlight();
    if (flying.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
}

export const serveMain = (args: string[]): Promise<number> => serve(args, false);
export const startMain = (args: string[]): Promise<number> => serve(args, true);
