// Wires a probe worker: the check processor on this zone's queue, a warm SSH
// session pool, and the inventory with the LB keys (which never leave here).
import type { Inventory } from '../../src/inventory/inventory-types.js';
import type { Logger } from '../../src/log.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import { CaptureHubs, DEFAULT_HUBS_OPTIONS } from '../../src/capture/capture-hubs.js';
import { ProxyKindMemory } from '../../src/checklist/observe/proxy-kind-memory.js';
import { SessionPool } from '../../src/remote/session-pool.js';
import type { Backend } from '../../src/pipeline/backend.js';
import type { RuntimeConfig } from '../../src/runtime/env-config.js';
import { onPngThreadReplaced } from '../../src/evidence/png-pool.js';
import { recordPngThreadReplaced, watchSessions } from '../../src/ops/metrics.js';
import { defaultWorkerName, processCheck, reportGaveUp, reportLost, type CheckWorkerDeps } from './check-processor.js';

export interface RunningWorker extends Closeable {
  deps: CheckWorkerDeps;
  /** Ids of the checks this process is running now. */
  active(): string[];
  /** Asks every running check of this process to stop (they report "cancelled by <by>"). */
  cancelActive(by: string): Promise<string[]>;
}

export function startCheckWorker(
  backend: Backend,
  config: RuntimeConfig,
  inventory: () => Inventory | undefined,
  log: Logger,
  overrides: Partial<CheckWorkerDeps> = {},
): RunningWorker {
  const sessions = new SessionPool();
  const hubs = config.sharedCapture
    ? new CaptureHubs({ ...DEFAULT_HUBS_OPTIONS, perHost: config.capturesPerLb })
    : undefined;
  const unwatch = watchSessions(() => sessions.snapshot()); // lbcheck_ssh_sessions at each scrape
  onPngThreadReplaced(recordPngThreadReplaced);
  const worker = defaultWorkerName(config.zone);
  const deps: CheckWorkerDeps = {
    state: backend.state,
    bus: backend.bus,
    inventory,
    sessions,
    log: log.child({ worker }),
    worker,
    capturesPerLb: config.capturesPerLb,
    connectTimeoutMs: config.connectTimeoutMs,
    silentMs: config.silentMs,
    evidenceMaxBytes: config.evidenceMaxBytes,
    evidenceTtlSeconds: config.evidenceTtlSeconds,
    localCapture: config.localCapture,
    // With shared captures a worker runs warm checks, where step 2's wait for a TCP proxy is a third of the time.
    ...(hubs ? { captureHubs: hubs, proxyKinds: new ProxyKindMemory() } : {}),
    ...(config.sourceAddress ? { sourceAddress: config.sourceAddress } : {}),
    ...overrides,
  };
  const running = new Set<string>();
  const consumer = backend.bus.runChecks(
    config.zone,
    config.workerConcurrency,
    async (request, ctx) => {
      running.add(request.checkId);
      try {
        await processCheck(request, deps, ctx);
      } finally {
        running.delete(request.checkId);
      }
    },
    (request, err) => reportGaveUp(request, err, deps),
    (request) => reportLost(request, deps),
  );
  return {
    deps,
    active: () => [...running],
    cancelActive: async (by) => {
      const ids = [...running];
      await Promise.all(ids.map((id) => deps.state.requestCancel(id, by)));
      return ids;
    },
    close: async () => {
      await consumer.close();
      await hubs?.closeAll();
      await sessions.closeAll();
      unwatch();
    },
  };
}
