// `lbcheck worker [--zone Z] [--concurrency N]`: a probe worker process. It
// needs Redis and SSH reach to the LBs of its zone, nothing else.
import { CliUsageError } from '../errors.js';
import { commandHelp, WORKER } from './command-specs.js';
import { parseArgs } from '../runtime/parse-args.js';
import { InventoryHolder } from '../inventory/inventory-holder.js';
import { loggerFromEnv, type Logger } from '../log.js';
import { safeRedisUrl } from '../runtime/redis-url.js';
import { ZONE } from '../model/ids.js';
import { connectBackend } from '../pipeline/backend.js';
import { readConfig } from '../runtime/env-config.js';
import { Resources } from '../runtime/resources.js';
import { untilSignal } from '../runtime/until-signal.js';
import { readOpsConfig } from '../ops/ops-config.js';
import { startCheckWorker, type RunningWorker } from '../../workers/probe/worker-runtime.js';
import { startWorkerOps } from '../../workers/probe/worker-ops.js';

const USAGE = commandHelp(WORKER);

export async function workerMain(args: string[]): Promise<number> {
  const p = parseArgs(args, WORKER.options, USAGE);
  if (p.positional.length > 0) throw new CliUsageError(`unexpected ${p.positional.join(' ')}`, USAGE);
  const zone = p.flags.get('zone')?.[0];
  if (zone !== undefined && !ZONE.test(zone))
    throw new CliUsageError(`--zone ${JSON.stringify(zone)} is not a zone name`, USAGE);
  const concurrency = p.flags.get('concurrency')?.[0];
  const source = p.flags.get('source')?.[0];
  const config = readConfig({
    ...process.env,
    ...(source ? { LBCHECK_SOURCE_ADDRESS: source } : {}),
    ...(zone ? { LBCHECK_ZONE: zone } : {}),
    ...(concurrency ? { LBCHECK_WORKER_CONCURRENCY: concurrency } : {}),
  });
  // LBCHECK_LOG as in serve/start; a worker logs to stderr when it is unset (its supervisor collects that).
  const { log } = loggerFromEnv(process.env, 'stderr', { process: 'worker', zone: config.zone });
  const opsConfig = readOpsConfig(process.env, undefined); // several workers to a host: a port only when given
  const resources = new Resources();
  // A failure at any step closes what the steps before opened, so the process exits with the error.
  return resources.guard(async () => {
    const holder = config.inventoryFile ? new InventoryHolder(config.inventoryFile, log).watch() : undefined;
    resources.add(() => holder?.close());
    const backend = await connectBackend(config, false, log);
    resources.add(() => backend.close());
    if (!config.jobKey)
      log.log(
        'warn',
        'LBCHECK_JOB_KEY is not set: jobs are not sealed, so whoever can write to Redis can queue checks ' +
          '(accepted only because this Redis is on this machine)',
        {},
      );
    const worker = startCheckWorker(backend, config, () => holder?.current, log);
    resources.add(() => worker.close());
    const ops = await startWorkerOps(config, opsConfig, backend, () => holder?.current, log);
    if (ops) resources.add(() => ops.close());
    // Listening for SIGTERM before saying "started": a supervisor may stop the worker the moment it reads that.
    const stopped = stopGracefully(worker, log);
    log.log('info', 'worker started', {
      metrics: ops ? `${ops.url}/metrics` : null,
      redis: safeRedisUrl(config.redisUrl),
      zone: config.zone,
      concurrency: config.workerConcurrency,
      inventory: config.inventoryFile ?? null,
    });
    await stopped;
    await resources.closeAll();
    return 0;
  });
}

/**
 * First SIGINT/SIGTERM: take no new checks and finish the running ones (named
 * in the log); a second one cancels them, each reporting "cancelled" in its thread.
 */
export async function stopGracefully(worker: RunningWorker, log: Logger): Promise<void> {
  const signal = await untilSignal();
  log.log('info', 'stopping: finishing the running checks; send the signal again to cancel them', {
    signal,
    finishing: worker.active(),
  });
  void untilSignal().then(async (again) => {
    const cancelled = await worker.cancelActive(`the worker's shutdown (${again})`);
    log.log('warn', 'stopping now: cancelled the running checks', { signal: again, cancelled });
  });
}
