// The bot side's ops port: what /readyz checks (Redis, the inventory, the chat
// platforms, and with a worker in the process its SSH reach), the queues it
// exports to /metrics, and the read-only queue dashboard behind LBCHECK_ADMIN_TOKEN.
import type { InventoryHolder } from '../src/inventory/inventory-holder.js';
import type { Inventory } from '../src/inventory/inventory-types.js';
import type { Logger } from '../src/log.js';
import { BullBus } from '../src/pipeline/bullmq-bus.js';
import { checksQueueName, reportsQueueName } from '../src/pipeline/job-bus.js';
import type { OpsConfig } from '../src/ops/ops-config.js';
import type { RunningOps } from '../src/ops/ops-server.js';
import { queueDashboard } from '../src/ops/queue-dashboard.js';
import { cachedWhenOk, inventoryProbe, sshProbe, type ReadinessProbe } from '../src/ops/readiness.js';
import { startOps } from '../src/ops/start-ops.js';
import type { Backend } from '../src/pipeline/backend.js';
import type { RuntimeConfig } from '../src/runtime/env-config.js';
import type { RunningPlatform } from './chat-platform.js';

export interface BotOpsParts {
  process: 'start' | 'serve';
  config: RuntimeConfig;
  ops: OpsConfig;
  backend: Backend;
  holder: InventoryHolder | undefined;
  /** The chat platforms this process runs (the console has no `started`). */
  platforms: readonly { id: string; started?: RunningPlatform }[];
  log: Logger;
}

/** The checks queues of every zone the inventory names, and the reports queues of this process's platforms. */
function queueNames(inventory: Inventory | undefined, platforms: readonly string[], zone: string): string[] {
  const zones = new Set([zone, 'default']);
  for (const lb of inventory?.loadBalancers.values() ?? []) if (lb.zone) zones.add(lb.zone);
  for (const vip of inventory?.vips.values() ?? []) if (vip.zone) zones.add(vip.zone);
  return [...[...zones].map(checksQueueName), ...platforms.map(reportsQueueName)];
}

/** Every chat platform that can say whether it is accepted, asked at most once a minute while it is. */
function platformProbe(platforms: BotOpsParts['platforms']): ReadinessProbe {
  const probes = platforms.map(({ id, started }) => {
    const ask = started?.readiness?.bind(started);
    return ask ? cachedWhenOk(ask, 60_000) : () => Promise.resolve({ ok: true, detail: `${id}: running` });
  });
  return async () => {
    const results = await Promise.all(probes.map((probe) => probe()));
    return { ok: results.every((r) => r.ok), detail: results.map((r) => r.detail ?? '').join('; ') || 'no platform' };
  };
}

export function startBotOps(p: BotOpsParts, withWorker: boolean): Promise<RunningOps | undefined> {
  const inventory = (): Inventory | undefined => p.holder?.current;
  const names = (): string[] =>
    queueNames(
      inventory(),
      p.platforms.map((x) => x.id),
      p.config.zone,
    );
  const bus = p.backend.bus instanceof BullBus ? p.backend.bus : undefined;
  const readiness: Record<string, ReadinessProbe> = {
    redis: async () => {
      const problem = await p.backend.problem();
      return problem
        ? { ok: false, detail: problem }
        : { ok: true, detail: p.backend.mode === 'redis' ? 'answers' : 'in-process queue' };
    },
    inventory: inventoryProbe(p.config.inventoryFile, inventory),
    platform: platformProbe(p.platforms),
    ...(withWorker ? { ssh: cachedWhenOk(sshProbe(p.config.zone, inventory), 10_000) } : {}),
  };
  return startOps(
    p.ops,
    {
      process: p.process,
      readiness,
      ...(bus ? { queueMetrics: () => bus.prometheusText(names()) } : {}),
      ...(bus && p.ops.adminToken
        ? { dashboard: { handler: queueDashboard(names().map((n) => bus.queue(n))), token: p.ops.adminToken } }
        : {}),
    },
    p.log,
  );
}
