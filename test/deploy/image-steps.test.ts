// The image cannot be built here, so its runtime stage is run as a script: the
// Dockerfile's COPY steps (the build stage's output is this checkout's dist/,
// which `npm ci` built the same way) and its `npm ci --omit=dev` in a fresh
// directory, from the registry. One install per test run. Then the commands
// the image runs work without dev dependencies: their help, a real worker
// against Redis, and ssh2 from the bundle and from the package (the fallback).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deleteKeys, TEST_REDIS_ENV, testPrefix } from '../pipeline/harness.js';
import { dockerInstructions, readRepo, REPO } from './deploy-files.js';

const image = mkdtempSync(join(tmpdir(), 'lbcheck-image-'));
const prefix = testPrefix('image-steps');
after(async () => {
  rmSync(image, { recursive: true, force: true });
  await deleteKeys(prefix);
});

const steps = dockerInstructions(readRepo('Dockerfile'));
/** Where the build stage works: its files are this checkout's. */
const buildDir = steps.find((s) => s.stage === 'build' && s.keyword === 'WORKDIR')?.args ?? '/src';
const runtime = steps.filter((s) => s.stage === 'runtime');
const skipped: string[] = [];
const ran: string[] = [];

/** COPY [--from=build] SRC... DEST, with DEST relative to the runtime WORKDIR. */
function copy(args: string): void {
  const words = args.split(/\s+/);
  const fromBuild = words[0] === '--from=build';
  const paths = fromBuild ? words.slice(1) : words;
  const dest = paths.pop() ?? '';
  for (const src of paths) {
    const from = join(REPO, fromBuild ? src.slice(buildDir.length + 1) : src);
    const to = dest.endsWith('/') ? join(image, dest, src.split('/').pop() ?? '') : join(image, dest);
    cpSync(from, to, { recursive: true });
  }
}

/** The npm parts of a RUN; system steps (apt, users, links) are for the image only. */
function run(args: string): void {
  for (const part of args.split('&&').map((p) => p.trim())) {
    if (!part.startsWith('npm ci')) {
      skipped.push(part);
      continue;
    }
    const r = spawnSync('sh', ['-c', part], {
      cwd: image,
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    assert.equal(r.status, 0, `${part}: ${r.stderr}`);
    ran.push(part);
  }
}

const lbcheck = (args: string[]): ReturnType<typeof spawnSync> =>
  spawnSync(process.execPath, [join(image, 'dist/adapters/lbcheck.js'), ...args], { encoding: 'utf8', cwd: image });

describe("the image's runtime steps, in a fresh directory", { timeout: 600_000 }, () => {
  before(() => {
    for (const step of runtime.slice(runtime.findIndex((s) => s.keyword === 'WORKDIR') + 1)) {
      if (step.keyword === 'COPY') copy(step.args);
      else if (step.keyword === 'RUN') run(step.args);
    }
  });

  it('installed the production dependencies only', () => {
    assert.ok(existsSync(join(image, 'node_modules/ssh2')));
    // typescript is left out only where no optional peer (valibot's) asks for it: npm keeps it with --omit=dev.
    for (const dev of ['esbuild', 'eslint', 'prettier', 'madge', 'fast-check'])
      assert.ok(!existsSync(join(image, 'node_modules', dev)), `${dev} is a dev dependency`);
    assert.equal(ran.length, 1, `one install: ${ran.join(' | ')} (left to the image: ${skipped.join(' | ')})`);
    assert.match(ran[0] ?? '', /^npm ci --omit=dev /);
  });

  for (const command of ['worker', 'serve'])
    it(`lbcheck ${command} --help works there, as in the checkout`, () => {
      const r = lbcheck([command, '--help']);
      assert.equal(r.status, 0, String(r.stderr));
      const here = spawnSync(process.execPath, [join(REPO, 'dist/adapters/lbcheck.js'), command, '--help'], {
        encoding: 'utf8',
      });
      assert.equal(r.stdout, here.stdout);
    });

  it('the worker and bot modules load, and ssh2 loads from the bundle and, without it, from the package', () => {
    const script = [
      "await import('./dist/src/cli/worker-command.js');",
      "await import('./dist/adapters/serve-command.js');",
      "const ssh = await import('./dist/src/remote/ssh2-client.js');",
      "console.log(ssh.loadSshClient().source, ssh.loadSshClient('/nonexistent/ssh2-client.cjs').source);",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: image, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // The bundle's code cache was recorded by this node when the checkout was built: accepted.
    assert.equal(r.stdout.trim(), 'bundle+code-cache package');
  });

  it('a real worker starts on Redis there and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(image, 'dist/adapters/lbcheck.js'), 'worker', '--zone', 'image'], {
      cwd: image,
      env: { ...process.env, ...TEST_REDIS_ENV, LBCHECK_PREFIX: prefix, LBCHECK_CONFIG: '', LBCHECK_LOG: 'stderr' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('worker started')) resolve();
      });
      void exited.then(() => reject(new Error(`the worker exited before it started: ${err}`)));
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  });
});
