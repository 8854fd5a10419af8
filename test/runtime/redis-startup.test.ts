// What `lbcheck worker` and `lbcheck serve` print about their Redis, run as
// real processes against a real redis-server with a password: the password
// (here one holding "/" and "@") is never printed; and a Redis that is not on
// this machine is refused outright without LBCHECK_JOB_KEY.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';

const PASSWORD = 'sl/sh@SECRET';
const CLI = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
let redis: ChildProcess;
let port = 0;
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.once('error', reject);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbcheck-redis-startup-'));
  port = await freePort();
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      password: PASSWORD,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
});
after(async () => {
  if (redis.exitCode === null) {
    redis.kill('SIGTERM');
    await new Promise((r) => redis.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the CLI until its output matches `until` (then stops it with SIGTERM, by its pid) or it exits by itself.
 * Resolves with its exit code and everything it wrote.
 */
async function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  until: RegExp,
): Promise<{ code: number | null; signal: string | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, LBCHECK_LOG: 'stderr', LBCHECK_AUDIT_DIR: join(dir, 'audit'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  const onData = (d: Buffer): void => {
    output += d.toString();
    if (until.test(output) && child.exitCode === null) child.kill('SIGTERM');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  return { code, signal, output };
}

const url = (): string => `redis://default:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`;

describe('a Redis password in the startup output', () => {
  it('`lbcheck worker` connects with it and prints the URL masked', async () => {
    const { output } = await run(['worker'], { REDIS_URL: url() }, /worker started/);
    assert.match(output, /worker started/);
    assert.match(output, new RegExp(`redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(output, /SECRET|sl%2Fsh|default:/);
  });

  it('`lbcheck serve` prints its queue line masked', async () => {
    const { output } = await run(
      ['serve'],
      { REDIS_URL: url(), TEAMS_LOCAL: '1', TEAMS_PORT: '0' },
      /Teams messaging endpoint/,
    );
    assert.match(output, new RegExp(`queue: Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(prefix lbcheck\\)`));
    assert.doesNotMatch(output, /SECRET|sl%2Fsh|default:/);
  });

  it('a wrong password: the "does not answer" error masks it too', async () => {
    const wrong = `redis://default:${encodeURIComponent('wr/ong@SECRET2')}@127.0.0.1:${port}`;
    const { code, output } = await run(['worker'], { REDIS_URL: wrong }, /^$/);
    assert.notEqual(code, 0);
    assert.match(output, new RegExp(`Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port} does not answer`));
    assert.doesNotMatch(output, /SECRET2|wr%2Fong/);
  });
});

describe('LBCHECK_JOB_KEY and a Redis off this machine', () => {
  // 0.0.0.0 is not a loopback address by lbcheck's rule, yet Linux delivers a connection to it locally: the test
  // never sends anything off this machine, whatever the code does.
  const offLoopback = (): string => `redis://default:${encodeURIComponent(PASSWORD)}@0.0.0.0:${port}`;

  it('without the key, `lbcheck worker` refuses to start, saying what to set', async () => {
    const { code, output } = await run(['worker'], { REDIS_URL: offLoopback() }, /worker started/);
    assert.equal(code, 3, output); // a configuration error's exit code
    assert.match(
      output,
      /LBCHECK_JOB_KEY is not set and Redis at redis:\/\/\*\*\*@0\.0\.0\.0:\d+ is not on this machine/,
    );
    assert.match(output, /set the same LBCHECK_JOB_KEY/i);
    assert.doesNotMatch(output, /worker started/);
  });

  it('without the key, `lbcheck serve` refuses too', async () => {
    const { code, output } = await run(
      ['serve'],
      { REDIS_URL: offLoopback(), TEAMS_LOCAL: '1', TEAMS_PORT: '0' },
      /Teams messaging endpoint/,
    );
    assert.equal(code, 3, output);
    assert.match(output, /LBCHECK_JOB_KEY is not set and Redis at .* is not on this machine/);
    assert.doesNotMatch(output, /Teams messaging endpoint/);
  });

  it('with the key, the same Redis is accepted', async () => {
    const { output } = await run(
      ['worker'],
      { REDIS_URL: offLoopback(), LBCHECK_JOB_KEY: 'j'.repeat(40) },
      /worker started/,
    );
    assert.match(output, /worker started/);
  });
});
