// A real local Redis Cluster for tests: three `redis-server --cluster-enabled
// yes` masters on free loopback ports, joined by `redis-cli --cluster create`.
// Each server runs under `setpriv --pdeathsig KILL`, so it dies with the test
// process even on kill -9; stop() kills them by PID and removes their files.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RedisCluster {
  /** redis://127.0.0.1:<port> of the first node: ioredis' Cluster client finds the rest. */
  url: string;
  ports: number[];
  stop(): void;
}

/** A free loopback port whose cluster bus port (+10000) is free too. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    if (port + 10000 > 65535) continue;
    const busFree = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 10000, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (busFree) return port;
  }
}

async function clusterOk(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']).catch(() => ({ stdout: '' }));
  return /cluster_state:ok/.test(stdout);
}

export async function startRedisCluster(nodes = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lbcheck-cluster-'));
  const ports: number[] = [];
  const procs: ChildProcess[] = [];
  const stop = (): void => {
    for (const p of procs) if (p.exitCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < nodes; i++) {
      const port = await freePort();
      ports.push(port);
      // Started before the next port is chosen, so two nodes never pick the same one.
      const child = spawn(
        'setpriv',
        [
          '--pdeathsig',
          'KILL',
          '--',
          'redis-server',
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      );
      procs.push(child);
      const deadline = Date.now() + 10_000;
      while (
        !(await run('redis-cli', ['-p', String(port), 'ping']).then(
          (r) => r.stdout.includes('PONG'),
          () => false,
        ))
      ) {
        if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 20_000;
    for (const port of ports)
      while (!(await clusterOk(port))) {
        if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok (node ${port})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    return { url: `redis://127.0.0.1:${ports[0] ?? 0}`, ports, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
