// A whole lbcheck pipeline for tests: real Redis (unique key prefix), real
// BullMQ queues, the console adapter on in-memory streams, the report poster,
// and in-process probe workers against the lab.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConsoleAdapter } from '../../adapters/console/console-adapter.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { startReportPoster } from '../../adapters/bot-runtime.js';
import { loadInventory } from '../../src/inventory/load-inventory.js';
import { createLogger } from '../../src/log.js';
import type { Closeable } from '../../src/pipeline/job-bus.js';
import type { ChatPoster } from '../../src/pipeline/poster.js';
import { handleCommand } from '../../src/pipeline/intake.js';
import { connectBackend, type Backend } from '../../src/pipeline/backend.js';
import { readConfig, type RuntimeConfig } from '../../src/runtime/env-config.js';
import { redisClient, type ClientOptions, type RedisClient } from '../../src/runtime/redis-client.js';
import { startCheckWorker, type RunningWorker } from '../../workers/probe/worker-runtime.js';
import type { Lab } from '../lab/lab.js';

export const TEST_REDIS = process.env.LBCHECK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** LBCHECK_TEST_REDIS_CLUSTER=1: TEST_REDIS is a node of a Redis Cluster (cluster-lab.test.ts runs pipeline tests so). */
export const TEST_REDIS_CLUSTER = process.env.LBCHECK_TEST_REDIS_CLUSTER === '1';
/** What a process's environment needs to use the test Redis (REDIS_URL, and the cluster switch when it is one). */
export const TEST_REDIS_ENV: Record<string, string> = {
  REDIS_URL: TEST_REDIS,
  ...(TEST_REDIS_CLUSTER ? { LBCHECK_REDIS_CLUSTER: '1' } : {}),
};

/** A unique key prefix; a {hash tag} on a cluster, so every script and transaction stays in one slot. */
export function testPrefix(name: string): string {
  const p = `${name}-${randomBytes(4).toString('hex')}`;
  return TEST_REDIS_CLUSTER ? `{${p}}` : p;
}

/** A client of the test Redis (a Cluster client on a cluster). */
export function testRedis(options: ClientOptions = {}): RedisClient {
  return redisClient(TEST_REDIS, TEST_REDIS_CLUSTER, options);
}

/** An inventory naming every lab VIP ("haproxy-http", "dnat", ...) with its LB and members. */
export function writeLabInventory(lab: Lab, dir: string, extraVips: string[] = []): string {
  const file = join(dir, 'inventory.yaml');
  const members = `[${lab.servers.map((s) => `${s.address}:${s.port}`).join(', ')}]`;
  const vips = Object.values(lab.vips).flatMap((v) => [
    `  ${v.kind}:`,
    `    address: ${v.address}`,
    `    port: ${v.port}`,
    '    lb: lab-lb',
    `    members: ${members}`,
  ]);
  writeFileSync(
    file,
    [
      'loadBalancers:',
      '  lab-lb:',
      `    ssh: ssh://root@${lab.sshInfo.host}`,
      `    identity: ${lab.sshInfo.identityFile}`,
      `    hostKey: ${lab.sshInfo.hostKeyFingerprint}`,
      'vips:',
      ...vips,
      ...extraVips,
      // The pipeline tests drive bursts from one console user: limits high, the lab's block allowed.
      'policy:',
      '  rules:',
      '    - name: lab-console',
      '      users: [console:tester]',
      "      targets: ['*']",
      `      cidrs: [${lab.addr.block}]`,
      '  limits: { perUserPerMinute: 100000, perChannelPerMinute: 100000, inFlightPerTarget: 1000 }',
      '',
    ].join('\n'),
  );
  return file;
}

export interface Harness {
  config: RuntimeConfig;
  audit: AuditLog;
  backend: Backend;
  console: ConsoleAdapter;
  dir: string;
  output(): string;
  /** Sends a console line and returns what the bot answered at once. */
  send(line: string): Promise<string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  count(pattern: RegExp): number;
  startWorker(overrides?: Parameters<typeof startCheckWorker>[4], zone?: string): RunningWorker;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Wraps the console poster, e.g. to make the "platform" fail. */
  poster?: (console: ConsoleAdapter) => ChatPoster;
  /** Extra lines under vips: in the lab inventory. */
  extraVips?: string[];
  /** Runs watch rounds in this process (the bot side's, as `lbcheck start` does). */
  watch?: boolean;
}

export async function startHarness(
  lab: Lab,
  env: Record<string, string> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-pipeline-'));
  const inventoryFile = writeLabInventory(lab, dir, options.extraVips);
  const prefix = testPrefix('lbt');
  const config = readConfig({
    ...TEST_REDIS_ENV,
    LBCHECK_PREFIX: prefix,
    LBCHECK_CONFIG: inventoryFile,
    LBCHECK_EVIDENCE_DIR: join(dir, 'evidence'),
    LBCHECK_AUDIT_DIR: join(dir, 'audit'),
    LBCHECK_CONNECT_TIMEOUT_MS: '1000',
    LBCHECK_SILENT_MS: '2500',
    ...env,
  });
  const inventory = loadInventory(inventoryFile);
  const log = createLogger({ file: join(dir, 'lbcheck.log') });
  const backend = await connectBackend(config, false);
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString()));
  const audit = new AuditLog(config.auditDir);
  const intakeDeps = {
    state: backend.intakeState,
    bus: backend.bus,
    inventory: () => inventory,
    log,
    prefix: '/lbcheck',
    audit,
  };
  const consoleAdapter = new ConsoleAdapter({
    input: new PassThrough(),
    output,
    evidenceDir: config.evidenceDir,
    user: 'tester',
    intake: (i) => handleCommand(i, intakeDeps),
  });
  const closeables: Closeable[] = [
    startReportPoster(
      backend,
      [options.poster ? options.poster(consoleAdapter) : consoleAdapter],
      log,
      audit,
      options.watch ? intakeDeps : undefined,
    ),
  ];
  const harness: Harness = {
    config,
    audit,
    backend,
    console: consoleAdapter,
    dir,
    output: () => text,
    send: async (line) => (await consoleAdapter.handleLine(line)).text,
    waitFor: async (pattern, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = pattern.exec(text);
        if (m) return m[0];
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`console output never matched ${pattern} within ${timeoutMs} ms; output was:\n${text}`);
    },
    count: (pattern) =>
      (text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)) ?? [])
        .length,
    startWorker: (overrides = {}, zone) => {
      const w = startCheckWorker(backend, zone ? { ...config, zone } : config, () => inventory, log, overrides);
      closeables.push(w);
      return w;
    },
    close: async () => {
      for (const c of closeables.reverse()) await c.close();
      await backend.close();
      await deleteKeys(prefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export async function deleteKeys(prefix: string): Promise<void> {
  const r = testRedis({ maxRetriesPerRequest: 1 });
  try {
    // SCAN sees one server: on a cluster, every master's share.
    const servers = 'nodes' in r ? r.nodes('master') : [r];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await server.del(key);
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}
