// What every chat-platform test stack shares: the lab's inventory with a
// policy for that platform's identities, real Redis under a unique prefix, a
// logger, an audit log, the intake dependencies, and cleanup.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Inventory } from '../../src/inventory/inventory-types.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { IntakeDeps } from '../../src/pipeline/intake.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig, type RuntimeConfig } from '../../src/runtime/env-config.js';
import type { Lab } from '../lab/lab.js';
import { deleteKeys, TEST_REDIS, writeLabInventory } from './harness.js';

export interface PlatformBase {
  config: RuntimeConfig;
  inventory: Inventory;
  backend: Backend;
  log: Logger;
  audit: AuditLog;
  intakeDeps: IntakeDeps;
  close(): Promise<void>;
}

/** rule: the YAML of one policy rule's who/where lines, e.g. "users: [slack:U0ONCALL]". */
export async function startPlatformBase(lab: Lab, prefixCommand: string, rule: string[]): Promise<PlatformBase> {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-platform-'));
  const file = writeLabInventory(lab, dir);
  writeFileSync(
    file,
    [
      readFileSync(file, 'utf8').split('policy:')[0] ?? '',
      'policy:\n  rules:\n    - name: oncall\n',
      ...rule.map((l) => `      ${l}\n`),
      "      targets: ['*']\n",
      '  limits: { perUserPerMinute: 100000, perChannelPerMinute: 100000, inFlightPerTarget: 100000 }\n',
    ].join(''),
  );
  const inventory = loadInventory(file);
  const prefix = `lbt-${randomBytes(4).toString('hex')}`;
  const config = readConfig({
    REDIS_URL: TEST_REDIS,
    LBCHECK_PREFIX: prefix,
    LBCHECK_CONNECT_TIMEOUT_MS: '1000',
    LBCHECK_SILENT_MS: '2500',
  });
  const backend = await connectBackend(config, false);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  const audit = new AuditLog(join(dir, 'audit'));
  return {
    config,
    inventory,
    backend,
    log,
    audit,
    intakeDeps: {
      state: backend.intakeState,
      bus: backend.bus,
      inventory: () => inventory,
      log,
      prefix: prefixCommand,
      audit,
    },
    async close() {
      await backend.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until test() holds, failing with what it waited for. */
export async function until(test: () => boolean, what: string, withinMs = 20_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${withinMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
