// The environment is validated by one schema: hostile or mistyped values stop
// startup with the variable named, its value shown unless it is a secret, and
// what is expected. Redis URLs are shown with their password masked.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { slackOptionsFromEnv } from '../../adapters/slack/slack-app.js';
import { teamsOptionsFromEnv } from '../../adapters/teams/teams-env.js';
import { ConfigError } from '../../src/errors.js';
import { safeRedisUrl } from '../../src/runtime/redis-url.js';
import { readConfig } from '../../src/runtime/env-config.js';

const TEAMS_LOCAL = { TEAMS_LOCAL: '1' };
const SLACK = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'signing' };

function refused(fn: () => unknown, ...expect: RegExp[]): string {
  let message = '';
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    message = err.message;
    for (const re of expect) assert.match(err.message, re);
    return true;
  });
  return message;
}

describe('environment: Teams evidence links', () => {
  it('refuses an empty LBCHECK_LINK_SECRET (links would be forgeable offline) without echoing it', () => {
    refused(
      () => teamsOptionsFromEnv({ ...TEAMS_LOCAL, LBCHECK_LINK_SECRET: '' }),
      /LBCHECK_LINK_SECRET \(value not shown\) is set but empty/,
    );
  });
  it('refuses a short LBCHECK_LINK_SECRET and never prints it', () => {
    const m = refused(
      () => teamsOptionsFromEnv({ ...TEAMS_LOCAL, LBCHECK_LINK_SECRET: 'hunter2' }),
      /LBCHECK_LINK_SECRET .*at least 16 characters/,
    );
    assert.doesNotMatch(m, /hunter2/);
  });
  for (const bad of ['abc', '0', '-5', '1e9', '3.5', ' ']) {
    it(`refuses LBCHECK_LINK_TTL_SECONDS=${JSON.stringify(bad)} (links that never expire)`, () => {
      refused(
        () => teamsOptionsFromEnv({ ...TEAMS_LOCAL, LBCHECK_LINK_TTL_SECONDS: bad }),
        new RegExp(
          `LBCHECK_LINK_TTL_SECONDS=${JSON.stringify(JSON.stringify(bad)).slice(1, -1)} must be a whole number`,
        ),
      );
    });
  }
  it('keeps the defaults and accepts good values', () => {
    assert.equal(teamsOptionsFromEnv(TEAMS_LOCAL)?.linkTtlSeconds, 7 * 24 * 3600);
    const t = teamsOptionsFromEnv({
      ...TEAMS_LOCAL,
      LBCHECK_LINK_TTL_SECONDS: '600',
      LBCHECK_LINK_SECRET: 'x'.repeat(16),
    });
    assert.equal(t?.linkTtlSeconds, 600);
    assert.equal(t?.linkSecret, 'x'.repeat(16));
  });
  it('refuses a URL where LBCHECK_TEAMS_SERVICE_HOSTS wants host names (it would never match)', () => {
    refused(
      () =>
        teamsOptionsFromEnv({ ...TEAMS_LOCAL, LBCHECK_TEAMS_SERVICE_HOSTS: 'a.example.com,https://smba.example.net/' }),
      /LBCHECK_TEAMS_SERVICE_HOSTS=.* must list host names .*not "https:\/\/smba\.example\.net\/"/,
    );
  });
  it('refuses TEAMS_PORT=http', () => {
    refused(
      () => teamsOptionsFromEnv({ ...TEAMS_LOCAL, TEAMS_PORT: 'http' }),
      /TEAMS_PORT="http" must be a whole number from 0 to 65535/,
    );
  });
});

describe('environment: Slack', () => {
  it('refuses LBCHECK_SLACK_FILE_MAX_BYTES=abc (it turned the upload cap off)', () => {
    refused(
      () => slackOptionsFromEnv({ ...SLACK, LBCHECK_SLACK_FILE_MAX_BYTES: 'abc' }),
      /LBCHECK_SLACK_FILE_MAX_BYTES="abc" must be a whole number/,
    );
  });
  it('keeps the 5 MB default', () => {
    assert.equal(slackOptionsFromEnv(SLACK)?.fileMaxBytes, 5 * 1024 * 1024);
  });
  it('refuses SLACK_PORT=-1', () => {
    refused(() => slackOptionsFromEnv({ ...SLACK, SLACK_PORT: '-1' }), /SLACK_PORT="-1"/);
  });
});

describe('environment: runtime', () => {
  it('refuses an empty LBCHECK_JOB_KEY and a short one, never echoing either', () => {
    refused(() => readConfig({ LBCHECK_JOB_KEY: '' }), /LBCHECK_JOB_KEY \(value not shown\) is set but empty/);
    const m = refused(() => readConfig({ LBCHECK_JOB_KEY: 'short-key' }), /LBCHECK_JOB_KEY .*at least 32/);
    assert.doesNotMatch(m, /short-key/);
  });
  it('refuses a Redis URL that does not parse, without showing a password', () => {
    const m = refused(() => readConfig({ REDIS_URL: 'redis://u:pa ss@' }), /REDIS_URL=.* must look like redis:\/\//);
    assert.doesNotMatch(m, /pa ss/);
  });
  it('refuses LBCHECK_LOCAL_CAPTURE=no and LBCHECK_LOCK_MS=10s', () => {
    refused(
      () => readConfig({ LBCHECK_LOCAL_CAPTURE: 'no', LBCHECK_LOCK_MS: '10s' }),
      /LBCHECK_LOCAL_CAPTURE="no" must be 0/,
      /LBCHECK_LOCK_MS="10s" must be a whole number/,
    );
  });

  it('a bad setting stops `lbcheck serve` with a non-zero exit naming the variable', async () => {
    const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
    const child = spawn(process.execPath, [cli, 'serve'], {
      env: { PATH: process.env.PATH, ...TEAMS_LOCAL, LBCHECK_LINK_TTL_SECONDS: 'forever', LBCHECK_LOG: 'stderr' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.notEqual(code, 0);
    assert.match(err, /LBCHECK_LINK_TTL_SECONDS="forever" must be a whole number/);
  });
});

/** Runs the CLI with only PATH and these variables; resolves with its exit code and everything it wrote. */
async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH, LBCHECK_LOG: 'stderr', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, output };
}

describe('safeRedisUrl', () => {
  for (const [url, secret] of [
    ['redis://u:p@ss@host:6379', 'p@ss'],
    ['redis://u:p@ss@host:6379/0', 'ss@host'],
    ['rediss://:secret@h', 'secret'],
    ['rediss://:secret@h:6380/2', 'secret'],
    ['redis://onlysecret@h:6379', 'onlysecret'],
    ['redis://lbcheck:pw%40x@redis.internal:6380/0', 'pw'],
    ['redis://u:p@ss word@host', 'ss word'],
  ] as const) {
    it(`masks the password of ${url}`, () => {
      const safe = safeRedisUrl(url);
      assert.ok(!safe.includes(secret), safe);
      assert.match(safe, /\*\*\*/);
    });
  }
  it('keeps the scheme, host, port and database, masking everything before the last "@"', () => {
    assert.equal(safeRedisUrl('redis://u:p@ss@host:6379/0'), 'redis://***@host:6379/0');
    assert.equal(safeRedisUrl('rediss://:secret@h'), 'rediss://***@h');
    assert.equal(safeRedisUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
    assert.equal(safeRedisUrl('not a url with a p@ssword'), '(not a redis:// URL, not shown)');
  });
  it('masks a password a URL parser reads as host, port and path (redis://app:12/sl@sh-SECRET@127.0.0.1:6391)', () => {
    assert.equal(safeRedisUrl(SPLIT_PASSWORD_URL), 'redis://***@127.0.0.1:6391');
  });
});

/** WHATWG URL reads host "app", port 12 and the path "/sl@sh-SECRET@127.0.0.1:6391". */
const SPLIT_PASSWORD_URL = 'redis://app:12/sl@sh-SECRET@127.0.0.1:6391';

describe('REDIS_URL whose parsed host is not the text after its last "@"', () => {
  it('is refused by the settings, naming what to encode and never showing the password', () => {
    const m = refused(
      () => readConfig({ REDIS_URL: SPLIT_PASSWORD_URL }),
      /REDIS_URL="redis:\/\/\*\*\*@127\.0\.0\.1:6391" names host "127\.0\.0\.1" after its last "@", but a URL parser reads another host/,
      /percent-encode/,
    );
    assert.doesNotMatch(m, /SECRET|sl@sh|app/);
    for (const bad of ['redis://app:12?x@h:6379', 'redis://app:12#x@h:6379', 'rediss://u:1/b@[::1]:6380'])
      refused(() => readConfig({ REDIS_URL: bad }), /REDIS_URL=.* after its last "@"/);
  });
  it('the same password percent-encoded is accepted, and the host is the one after the last "@"', () => {
    const c = readConfig({ REDIS_URL: 'redis://app:12%2Fsl%40sh-SECRET@127.0.0.1:6391' });
    assert.equal(new URL(c.redisUrl).hostname, '127.0.0.1');
    assert.equal(readConfig({ REDIS_URL: 'redis://u:p@ss@host:6379/0' }).redisUrl, 'redis://u:p@ss@host:6379/0');
    assert.equal(readConfig({ REDIS_URL: 'rediss://[::1]:6380' }).redisUrl, 'rediss://[::1]:6380');
  });
  it('stops `lbcheck worker` with a non-zero exit, the URL masked', async () => {
    const { code, output } = await runCli(['worker'], { REDIS_URL: SPLIT_PASSWORD_URL });
    assert.notEqual(code, 0);
    assert.match(output, /REDIS_URL="redis:\/\/\*\*\*@127\.0\.0\.1:6391"/);
    assert.doesNotMatch(output, /SECRET|sl@sh/);
  });
});
