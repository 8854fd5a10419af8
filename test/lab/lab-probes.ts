// Small probes the lab's own tests use to prove each fault's packet-level
// effect. (The product's probes live in src/; these stay independent of it so
// the lab can vouch for itself.)
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Lab, LabHost } from './lab.js';
import { inNs } from './run-command.js';

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | 'unreachable';

export function tcpConnect(
  host: string,
  port: number,
  timeoutMs = 1500,
): Promise<{ outcome: ConnectOutcome; code?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: ConnectOutcome, code?: string): void => {
      socket.destroy();
      resolve(code === undefined ? { outcome } : { outcome, code });
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'unreachable', err.code),
    );
  });
}

export function httpGet(
  host: string,
  port: number,
  timeoutMs = 3000,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: '/', method: 'GET', headers: { connection: 'close' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}/ timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** TCP connect from inside a lab host, with bash's /dev/tcp under `timeout`. */
export async function connectFrom(
  lab: Lab,
  host: LabHost,
  address: string,
  port: number,
  seconds = 2,
): Promise<ConnectOutcome> {
  const r = await lab.exec(host, ['timeout', String(seconds), 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}`]);
  if (r.code === 0) return 'connected';
  if (r.code === 124) return 'timeout';
  if (/refused/i.test(r.stderr)) return 'refused';
  return 'unreachable';
}

/** A local tcpdump inside a lab host, printing decoded lines; stop() returns them. */
export async function captureIn(lab: Lab, host: LabHost, filter: string): Promise<{ stop: () => Promise<string[]> }> {
  const [file, ...args] = inNs(lab.nsOf(host), ['tcpdump', '-i', 'any', '-nn', '-l', '-U', '--immediate-mode', filter]);
  const child = spawn(file ?? 'ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const listening = new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', () => reject(new Error(`tcpdump exited early: ${err}`)));
  });
  await listening;
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 100)); // let the last packets print
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return out.split('\n').filter((l) => l.length > 0);
    },
  };
}

/** A local tcpdump inside a lab host writing a pcap file; stop() ends it cleanly (SIGINT flushes). */
export async function captureToFile(
  lab: Lab,
  host: LabHost,
  file: string,
  tcpdumpArgs: readonly string[],
): Promise<{ stop: () => Promise<void> }> {
  const [bin, ...args] = inNs(lab.nsOf(host), ['tcpdump', '-U', '--immediate-mode', '-w', file, ...tcpdumpArgs]);
  const child = spawn(bin ?? 'ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes('listening on')) resolve();
    });
    child.once('exit', () => reject(new Error(`tcpdump exited early: ${err}`)));
  });
  return {
    stop: async () => {
      await new Promise((r) => setTimeout(r, 100));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
