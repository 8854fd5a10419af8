// `lbcheck serve` (bot side: adapters + report poster) and `lbcheck start`
// (bot and a probe worker in one process, for a single machine; `npm start`).
// With no chat platform configured in the environment the platform is the console.
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { checkpointPolicyFromEnv } from '../src/audit/audit-config.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { CliUsageError } from '../src/errors.js';
import { commandHelp, SERVE, START } from '../src/cli/command-specs.js';
import { parseArgs } from '../src/runtime/parse-args.js';
import { InventoryHolder } from '../src/inventory/inventory-holder.js';
import type { Inventory } from '../src/inventory/inventory-types.js';
import { policyWarnings } from '../src/policy/load-policy.js';
import { NO_POLICY } from '../src/policy/policy-types.js';
import { errorFields, loggerFromEnv, routeConsoleToLog, type Logger } from '../src/log.js';
import { handleCommand, type IntakeDeps } from '../src/pipeline/intake.js';
import { handleAction } from '../src/pipeline/actions.js';
import { safeRedisUrl } from '../src/runtime/redis-url.js';
import { connectBackend, type Backend } from '../src/pipeline/backend.js';
import type { ChatPoster } from '../src/pipeline/poster.js';
import { readConfig, type RuntimeConfig } from '../src/runtime/env-config.js';
import { Resources } from '../src/runtime/resources.js';
import { untilSignal } from '../src/runtime/until-signal.js';
import { stopGracefully } from '../src/cli/worker-command.js';
import { startCheckWorker, type RunningWorker } from '../workers/probe/worker-runtime.js';
import { DEFAULT_METRICS_PORT, readOpsConfig, type OpsConfig } from '../src/ops/ops-config.js';
import { describeOps } from '../src/ops/start-ops.js';
import { describeAlerts, readAlertsSettings, startAlerts } from '../src/alerts/start-alerts.js';
import { startReportPoster, SWEEP_EVERY_MS } from './bot-runtime.js';
import { readEvidencePagesSettings, serveEvidencePages } from './evidence-http.js';
import { startBotOps, type BotOpsParts } from './ops-endpoint.js';
import { ConsoleAdapter } from './console/console-adapter.js';
import {
  configuredPlatforms,
  loadChatPlatforms,
  type ChatPlatform,
  type ConfiguredPlatform,
  type RunningPlatform,
} from './chat-platform.js';
import { platformInfo } from '../src/model/platforms.js';

/** The startup lines: what runs, where the queue is, what is configured, and every warning. */
function announce(
  say: (line: string) => void,
  withWorker: boolean,
  config: RuntimeConfig,
  backend: Backend,
  inv: Inventory | undefined,
  chats: readonly ConfiguredPlatform[],
  known: readonly ChatPlatform[],
  where: string,
): void {
  const platforms = chats.map((c) => c.platform.describe(c.settings));
  const none = `console (none of ${known.map((p) => p.enabledBy).join(', ')} is set)`;
  say(`lbcheck ${withWorker ? 'bot + worker' : 'bot'} · platform: ${platforms.join(' + ') || none}`);
  if (backend.mode === 'embedded') {
    say(
      `queue: in-process (no Redis answered at ${safeRedisUrl(config.redisUrl)} and REDIS_URL is not set); queued ` +
        `checks live only in this process`,
    );
  } else {
    say(`queue: Redis at ${safeRedisUrl(config.redisUrl)} (prefix ${config.prefix})`);
    if (!config.jobKey)
      say(
        'WARNING: LBCHECK_JOB_KEY is not set: queued jobs are not sealed, so whoever can write to this Redis can ' +
          'queue checks and posts (set the same key on bot and workers; without it, only a Redis on this machine is ' +
          'accepted)',
      );
  }
  say(
    inv
      ? `inventory: ${inv.file} (${inv.vips.size} targets: ${[...inv.vips.keys()].join(', ')}; reloaded when the ` +
          `file changes)`
      : 'inventory: none (set LBCHECK_CONFIG); only ip:port targets',
  );
  for (const w of policyWarnings(inv?.policy ?? NO_POLICY)) say(`WARNING: ${w}`);
  say(`evidence: ${resolve(config.evidenceDir)} · audit: ${resolve(config.auditDir)} · logs: ${where}`);
}

function auditLine(audit: AuditLog): string {
  const cp = audit.checkpoints;
  return cp
    ? `audit: ${audit.file}, signed checkpoints (key ${cp.signer.keyId}) every ${cp.everyRecords} records or ` +
        `${cp.everySeconds} s${cp.signer.warning ? `\nWARNING: audit: ${cp.signer.warning}` : ''}`
    : `WARNING: audit: ${audit.file} is hash-chained only; set LBCHECK_AUDIT_SIGNING_KEY so truncation and ` +
        `rewrites are detectable (lbcheck audit keygen)`;
}

/**
 * A quiet log is anchored by time too: a checkpoint every M seconds when anything was written, and a last one
 * when the process stops (after the poster, so it covers the last posts).
 */
function anchorPeriodically(audit: AuditLog, log: Logger): () => Promise<void> {
  const policy = audit.checkpoints;
  if (!policy) return () => Promise.resolve();
  const timer = setInterval(() => {
    audit
      .checkpoint('time', true)
      .catch((err: unknown) => log.log('warn', 'audit checkpoint failed', { error: (err as Error).message }));
  }, policy.everySeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await audit
      .checkpoint('shutdown')
      .catch((err: unknown) => log.log('warn', 'audit checkpoint failed', { error: (err as Error).message }));
  };
}

/** Everything read from the command line and the environment, before anything keeps the process alive. */
interface ServeSettings {
  withWorker: boolean;
  config: RuntimeConfig;
  known: readonly ChatPlatform[];
  chats: readonly ConfiguredPlatform[];
  opsConfig: OpsConfig;
  alertsSettings: ReturnType<typeof readAlertsSettings>;
  log: Logger;
  where: string;
  checkpoints: ReturnType<typeof checkpointPolicyFromEnv>;
}

async function readServeSettings(args: string[], withWorker: boolean): Promise<ServeSettings> {
  const spec = withWorker ? START : SERVE;
  const { positional } = parseArgs(args, spec.options, commandHelp(spec));
  if (positional.length > 0) throw new CliUsageError(`unexpected ${positional.join(' ')}`, commandHelp(spec));
  const config = readConfig();
  // Every check of the environment before anything that keeps the process alive (a watcher, a Redis connection).
  const known = await loadChatPlatforms();
  const chats = configuredPlatforms(known, process.env);
  const opsConfig = readOpsConfig(process.env, DEFAULT_METRICS_PORT);
  const alertsSettings = readAlertsSettings(process.env);
  const { log, where } = loggerFromEnv(process.env, '.lbcheck/lbcheck.log', {
    process: withWorker ? 'start' : 'serve',
  });
  const checkpoints = checkpointPolicyFromEnv(process.env, log);
  return { withWorker, config, known, chats, opsConfig, alertsSettings, log, where, checkpoints };
}

async function serve(args: string[], withWorker: boolean): Promise<number> {
  const settings = await readServeSettings(args, withWorker);
  const resources = new Resources();
  // A failure at any step below closes what the steps before opened, so the process exits with the error.
  return resources.guard(async () => {
    resources.add(routeConsoleToLog(settings.log)); // closed last: a fatal error printed after it reaches the terminal
    const run = await openCore(settings, resources);
    if (settings.chats.length === 0) return runConsole(run);
    const running = await startChats(settings.chats, run);
    const worker = await startBotSide(
      run,
      running.map((r) => r.started.poster),
      running,
    );
    for (const r of running) run.say(r.started.endpoint);
    run.log.log('info', 'started', {
      mode: run.backend.mode,
      worker: withWorker,
      platforms: settings.chats.map((c) => c.platform.info.id),
    });
    if (worker) await stopGracefully(worker, run.log);
    else run.log.log('info', 'stopping', { signal: await untilSignal() });
    await resources.closeAll();
    return 0;
  });
}

/** What both the chats and the console run on: inventory, queue, audit log, the intake and alerts. */
async function openCore(s: ServeSettings, resources: Resources): Promise<ServeRun> {
  const { config, log, withWorker } = s;
  const holder = config.inventoryFile ? new InventoryHolder(config.inventoryFile, log).watch() : undefined;
  resources.add(() => holder?.close());
  const inventory = (): Inventory | undefined => holder?.current;
  const backend = await connectBackend(config, withWorker, log);
  resources.add(() => backend.close());
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  announce(say, withWorker, config, backend, inventory(), s.chats, s.known, s.where);
  const audit = new AuditLog(config.auditDir, s.checkpoints);
  say(auditLine(audit));
  resources.add(anchorPeriodically(audit, log));
  const intakeDeps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory,
    log,
    prefix: platformInfo('console')?.commandPrefix ?? '/lbcheck',
    audit,
  };
  // The audit index is read once now, not by the first `export` inside a chat's ack budget.
  audit.index.current().catch((err: unknown) => log.log('warn', 'reading the audit log failed', errorFields(err)));
  // Before the chats: a link or an `export` answered by them is served from their first command on.
  const pageLink = await startEvidencePages(audit, log, resources, say, intakeDeps);
  const alerts = await startAlerts(s.alertsSettings, intakeDeps, log);
  resources.add(() => alerts?.close());
  say(describeAlerts(alerts));
  return {
    config,
    backend,
    inventory,
    log,
    audit,
    intakeDeps,
    withWorker,
    resources,
    say,
    holder,
    opsConfig: s.opsConfig,
    pageLink,
  };
}

/** Each configured chat platform, answering through the intake with its own command prefix. */
async function startChats(
  chats: readonly ConfiguredPlatform[],
  run: ServeRun,
): Promise<{ id: string; started: RunningPlatform }[]> {
  const running: { id: string; started: RunningPlatform }[] = [];
  for (const { platform, settings } of chats) {
    const started = await platform.start(settings, {
      log: run.log,
      intake: (incoming) => handleCommand(incoming, { ...run.intakeDeps, prefix: platform.info.commandPrefix }),
      action: (incoming, action) =>
        handleAction(incoming, action, { ...run.intakeDeps, prefix: platform.info.commandPrefix }),
      inventory: run.inventory,
      state: run.backend.intakeState,
      audit: run.audit,
    });
    run.resources.add(() => started.close());
    running.push({ id: platform.info.id, started });
  }
  return running;
}

/** The chat checks' evidence pages when LBCHECK_EVIDENCE_PORT is set: the signed link to a page, or undefined. */
async function startEvidencePages(
  audit: AuditLog,
  log: Logger,
  resources: Resources,
  say: (line: string) => void,
  intakeDeps: IntakeDeps,
): Promise<((checkId: string) => string) | undefined> {
  const settings = readEvidencePagesSettings(process.env);
  const pages = settings ? await serveEvidencePages(settings, audit, log) : undefined;
  resources.add(() => pages?.close());
  // The chats read the intake's deps per command: from now on `export` answers with a link.
  if (pages) intakeDeps.incidentLink = pages.incidentLink;
  say(pages?.describe ?? 'evidence pages: off (set LBCHECK_EVIDENCE_PORT to link each diagnosis to its page)');
  return pages?.link;
}

/**
 * The bot side behind the chats (or the console): the report poster, a probe worker for `lbcheck start`, and the
 * ops endpoint; each closes with the process. A new server of the bot process starts here.
 */
async function startBotSide(
  run: ServeRun,
  posters: readonly ChatPoster[],
  platforms: BotOpsParts['platforms'],
): Promise<RunningWorker | undefined> {
  const { backend, config, log, resources, withWorker, pageLink } = run;
  const poster = startReportPoster(backend, posters, log, run.audit, run.intakeDeps, SWEEP_EVERY_MS, pageLink);
  resources.add(() => poster.close());
  const worker = withWorker ? startCheckWorker(backend, config, run.inventory, log) : undefined;
  if (worker) resources.add(() => worker.close());
  const ops = await startBotOps(
    {
      process: withWorker ? 'start' : 'serve',
      config,
      ops: run.opsConfig,
      backend,
      holder: run.holder,
      platforms,
      log,
    },
    withWorker,
  );
  if (ops) resources.add(() => ops.close());
  run.say(
    describeOps(
      ops,
      run.opsConfig,
      ops !== undefined && run.opsConfig.adminToken !== undefined && backend.mode === 'redis',
    ),
  );
  return worker;
}

interface ServeRun {
  config: RuntimeConfig;
  backend: Backend;
  inventory: () => Inventory | undefined;
  log: Logger;
  audit: AuditLog;
  intakeDeps: IntakeDeps;
  withWorker: boolean;
  resources: Resources;
  say: (line: string) => void;
  holder: InventoryHolder | undefined;
  opsConfig: OpsConfig;
  /** The signed link to a check's evidence page, when the pages are served. */
  pageLink: ((checkId: string) => string) | undefined;
}

/**
 * The console: reads commands until end of input or Ctrl-C. End of input lets
 * queued reports print; Ctrl-C (or SIGTERM) cancels this console's checks in
 * flight, names them, waits for their workers to confirm, and exits 130.
 */
async function runConsole(c: ServeRun): Promise<number> {
  const { backend, config, log, resources, say } = c;
  c.say('Type /lbcheck help. quit or Ctrl-D leaves; Ctrl-C cancels the checks in flight and leaves.');
  const consoleAdapter = new ConsoleAdapter({
    input: process.stdin,
    output: process.stdout,
    evidenceDir: config.evidenceDir,
    user: userInfo().username,
    intake: (incoming) => handleCommand(incoming, c.intakeDeps),
    ...(process.stdin.isTTY ? { prompt: 'lbcheck> ' } : {}),
  });
  await startBotSide(c, [consoleAdapter], [{ id: 'console' }]);
  log.log('info', 'started', { mode: backend.mode, worker: c.withWorker });
  const ended = await Promise.race([consoleAdapter.run().then(() => 'end-of-input' as const), untilSignal()]);
  if (ended === 'end-of-input') {
    // Let reports already queued for this console print before leaving.
    await waitForInFlight(backend, 60_000);
    await resources.closeAll();
    return 0;
  }
  process.stdin.destroy();
  const mine = (await backend.state.inFlight()).filter((r) => r.request.replyTo.platform === 'console');
  if (mine.length > 0) {
    say(
      `\n${ended}: cancelling ${mine.map((r) => r.request.checkId).join(', ')}; waiting for the workers to stop them`,
    );
    for (const r of mine)
      await consoleAdapter.handleLine(`/lbcheck cancel ${r.request.checkId}`).catch((err: unknown) => {
        say(`could not cancel ${r.request.checkId}: ${err instanceof Error ? err.message : String(err)}`);
      });
    // A second Ctrl-C leaves at once; the checks are then picked up by stalled-job recovery.
    const waited = await Promise.race([waitForInFlight(backend, 15_000).then(() => 'done' as const), untilSignal()]);
    if (waited !== 'done') say('leaving without waiting: the cancelled checks end on their own');
  }
  await resources.closeAll();
  return 130;
}

async function waitForInFlight(backend: Backend, withinMs: number): Promise<void> {
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
