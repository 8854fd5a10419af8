// Each command loads only what it needs: `lbcheck --help` must not import the
// chat SDKs, the queue or SSH (they cost about a second before anything
// prints). Proven by recording every module a real CLI process resolves
// (a real `lbcheck run` against the lab: cli-exit-lab.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const cli = fileURLToPath(new URL('../../adapters/lbcheck.js', import.meta.url));
const preload = new URL('./record-imports.js', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'lbcheck-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HEAVY = ['@slack/bolt', '@slack/web-api', 'botbuilder', 'bullmq', 'ioredis', 'ssh2'] as const;

/** Runs the CLI with the import recorder; returns the packages (under node_modules) it loaded. */
function packagesLoaded(args: string[]): { packages: Set<string>; stdout: string; status: number | null } {
  const log = join(dir, `${args.join('_').replace(/\W/g, '')}.log`);
  const r = spawnSync(process.execPath, ['--import', preload, cli, ...args], {
    env: { ...process.env, LBCHECK_IMPORT_LOG: log, LBCHECK_CONFIG: '' },
    encoding: 'utf8',
  });
  let urls: string[] = [];
  try {
    urls = readFileSync(log, 'utf8').split('\n');
  } catch {
    // nothing recorded: the assertions below say so
  }
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m?.[1]) packages.add(m[1]);
  }
  return { packages, stdout: r.stdout, status: r.status };
}

describe('lazy loading per command', () => {
  it('the recorder sees a heavy package when a command really uses it (worker loads BullMQ before parsing)', () => {
    const r = packagesLoaded(['worker', '--zone']);
    assert.equal(r.status, 2);
    assert.ok(r.packages.has('bullmq'), `loaded: ${[...r.packages].join(', ')}`);
  });

  it('every command answers --help from the table, loading none of them (worker, serve, start included)', () => {
    for (const command of ['worker', 'serve', 'start', 'audit', 'sudoers']) {
      const r = packagesLoaded([command, '--help']);
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`lbcheck ${command}`));
      for (const p of HEAVY) assert.ok(!r.packages.has(p), `${command} --help loaded ${p}`);
    }
  });

  it('lbcheck --help loads none of Bolt, botbuilder, BullMQ, ioredis, ssh2', () => {
    const r = packagesLoaded(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /lbcheck run <target>/);
    for (const p of HEAVY) assert.ok(!r.packages.has(p), `--help loaded ${p}`);
  });

  it('lbcheck run --help answers before loading the engine: none of them either', () => {
    const r = packagesLoaded(['run', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--evidence-dir DIR/);
    for (const p of HEAVY) assert.ok(!r.packages.has(p), `run --help loaded ${p}`);
  });
});
