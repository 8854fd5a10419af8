// The console bot as `npm start` runs it (intake → queue → worker → poster →
// console), on the in-process queue so the demo needs no Redis and never
// shares one, plus the demo's own prompt commands for the lab's faults.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Inventory } from '../../src/inventory/inventory-types.js';
import { createLogger } from '../../src/log.js';
import { handleCommand, type Incoming, type IntakeReply } from '../../src/pipeline/intake.js';
import { embeddedBackend } from '../../src/pipeline/backend.js';
import { readConfig } from '../../src/runtime/env-config.js';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { ConsoleAdapter } from '../../adapters/console/console-adapter.js';
import { startCheckWorker } from '../../workers/probe/worker-runtime.js';
import { startDemoAlerts } from './demo-alerts.js';
import { DemoUsageError, type FaultSwitchboard } from './demo-faults.js';

export interface DemoBotOptions {
  input: Readable;
  output: Writable;
  inventory: Inventory;
  faults: FaultSwitchboard;
  user: string;
  /** Evidence, audit log and bot log go here. */
  dataDir: string;
  prompt?: string;
}

/** `faults`, `faults help`, `fault <name> [arg]`, `fault clear`: answered here, never queued. */
export async function demoCommand(text: string, faults: FaultSwitchboard): Promise<IntakeReply | undefined> {
  const words = text.trim().split(/\s+/);
  if (words[0] === 'faults') return { kind: 'info', text: words[1] === 'help' ? faults.help() : faults.list() };
  if (words[0] !== 'fault') return undefined;
  if (words.length < 2 || words.length > 3)
    return { kind: 'refused', text: 'usage: fault <name> [vip|server] (type `faults help` for the list)' };
  try {
    return { kind: 'info', text: await faults.toggle(words[1] ?? '', words[2]) };
  } catch (err) {
    if (err instanceof DemoUsageError) return { kind: 'refused', text: err.message };
    throw err;
  }
}

/** Runs the console until the input ends or the reader types quit; closes the queue and worker after. */
export async function runDemoBot(opts: DemoBotOptions): Promise<void> {
  // Short timeouts: the lab answers in microseconds, and a dropped VIP should not keep the reader waiting.
  const config = {
    ...readConfig({}),
    connectTimeoutMs: 2000,
    silentMs: 3000,
    evidenceDir: join(opts.dataDir, 'evidence'),
    auditDir: join(opts.dataDir, 'audit'),
  };
  mkdirSync(opts.dataDir, { recursive: true });
  const log = createLogger({ file: join(opts.dataDir, 'lbcheck.log') }, { process: 'demo' });
  // connectBackend's embedded mode (npm start without Redis): a check lost in flight is told in the console.
  const backend = embeddedBackend();
  const { state, bus } = backend;
  const audit = new AuditLog(config.auditDir);
  const inventory = (): Inventory => opts.inventory;
  const intakeDeps = { state, bus, inventory, log, prefix: '/lbcheck', audit };
  const alerts = await startDemoAlerts(intakeDeps);
  const intake = async (incoming: Incoming): Promise<IntakeReply> =>
    (await demoCommand(incoming.text, opts.faults)) ??
    (await alerts.command(incoming.text)) ??
    handleCommand(incoming, intakeDeps);
  const consoleAdapter = new ConsoleAdapter({
    input: opts.input,
    output: opts.output,
    evidenceDir: config.evidenceDir,
    user: opts.user,
    intake,
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
  });
  const poster = startReportPoster(backend, [consoleAdapter], log, audit);
  const worker = startCheckWorker(backend, config, inventory, log);
  await consoleAdapter.run();
  // Checks typed just before quit still print their verdicts (bounded, as `lbcheck start` does).
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await state.inFlight()).length > 0) await new Promise((r) => setTimeout(r, 100));
  await alerts.close();
  await worker.close();
  await poster.close();
  await backend.close();
}
