// A worker's ops port (LBCHECK_METRICS_PORT, one per worker process): its
// metrics and its zone's checks queue gauges; ready when Redis answers, the
// inventory is loaded and the sshd of at least one LB of its zone answers.
import type { Inventory } from '../../src/inventory/inventory-types.js';
import type { Logger } from '../../src/log.js';
import { BullBus } from '../../src/pipeline/bullmq-bus.js';
import { checksQueueName } from '../../src/pipeline/job-bus.js';
import type { OpsConfig } from '../../src/ops/ops-config.js';
import type { RunningOps } from '../../src/ops/ops-server.js';
import { cachedWhenOk, inventoryProbe, sshProbe } from '../../src/ops/readiness.js';
import { startOps } from '../../src/ops/start-ops.js';
import type { Backend } from '../../src/pipeline/backend.js';
import type { RuntimeConfig } from '../../src/runtime/env-config.js';

export function startWorkerOps(
  config: RuntimeConfig,
  ops: OpsConfig,
  backend: Backend,
  inventory: () => Inventory | undefined,
  log: Logger,
): Promise<RunningOps | undefined> {
  const bus = backend.bus instanceof BullBus ? backend.bus : undefined;
  return startOps(
    ops,
    {
      process: 'worker',
      readiness: {
        redis: async () => {
          const problem = await backend.problem();
          return problem ? { ok: false, detail: problem } : { ok: true, detail: 'answers' };
        },
        inventory: inventoryProbe(config.inventoryFile, inventory),
        ssh: cachedWhenOk(sshProbe(config.zone, inventory), 10_000),
      },
      ...(bus ? { queueMetrics: () => bus.prometheusText([checksQueueName(config.zone)]) } : {}),
    },
    log,
  );
}
