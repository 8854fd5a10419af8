// Runs a real `lbcheck` process for the ops tests and finds its ops port
// (LBCHECK_METRICS_PORT=0: the bound port is in its startup line or its log).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));

export interface LbcheckProcess {
  child: ChildProcessWithoutNullStreams;
  out(): string;
  err(): string;
  /** The ops URL (http://127.0.0.1:PORT), from the startup line or else the log file. */
  opsUrl(logFile?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function until<T>(
  test: () => T | undefined | Promise<T | undefined>,
  what: string | (() => string),
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await test();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The environment every ops test process starts from: no chat platform, ops on any free port. */
export function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SLACK_BOT_TOKEN: '',
    MicrosoftAppId: '',
    TEAMS_PORT: '',
    TEAMS_LOCAL: '',
    LBCHECK_ADMIN_TOKEN: '',
    LBCHECK_METRICS_HOST: '',
    LBCHECK_METRICS_PORT: '0',
    LBCHECK_LOCAL_CAPTURE: '0',
    ...extra,
  };
}

export function startLbcheck(args: string[], env: NodeJS.ProcessEnv): LbcheckProcess {
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    out: () => out,
    err: () => err,
    opsUrl: (logFile) =>
      until(
        () => {
          if (child.exitCode !== null) assert.fail(`lbcheck ${args.join(' ')} exited ${child.exitCode}: ${err}${out}`);
          const said = /metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(out)?.[1];
          if (said) return said;
          if (!logFile || !existsSync(logFile)) return undefined;
          const line = readFileSync(logFile, 'utf8')
            .split('\n')
            .find((l) => l.includes('"msg":"ops endpoints listening"'));
          return line ? (JSON.parse(line) as { url: string }).url : undefined;
        },
        `the ops port of lbcheck ${args.join(' ')}`,
      ),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const quick = await Promise.race([
          exited.then(() => true),
          new Promise((r) => setTimeout(() => r(false), 10_000)),
        ]);
        if (!quick) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
