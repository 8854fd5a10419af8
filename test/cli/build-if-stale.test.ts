// `npm start` builds only when a source changed since the last successful
// build. Run against a scratch checkout whose "tsc" only records that it ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const script = fileURLToPath(new URL('../../../scripts/build.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'lbcheck-build-'));
after(() => rmSync(root, { recursive: true, force: true }));

const runs = join(root, 'tsc-runs.log');
const FAKE_TSC = `
const fs = require('node:fs');
const path = require('node:path');
const root = process.env.LBCHECK_BUILD_ROOT;
fs.appendFileSync(path.join(root, 'tsc-runs.log'), 'tsc\\n');
if (fs.existsSync(path.join(root, 'src', 'broken.ts'))) process.exit(2);
fs.mkdirSync(path.join(root, 'dist', 'adapters'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'adapters', 'lbcheck.js'), '');
`;

function build(...args: string[]): { status: number | null; stderr: string; tscRuns: number } {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { ...process.env, LBCHECK_BUILD_ROOT: root },
    encoding: 'utf8',
  });
  let tscRuns = 0;
  try {
    tscRuns = readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    // tsc never ran
  }
  return { status: r.status, stderr: r.stderr, tscRuns };
}

describe('scripts/build.mjs --if-stale', () => {
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'node_modules', 'typescript', 'bin'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'typescript', 'bin', 'tsc'), FAKE_TSC);
  writeFileSync(join(root, 'tsconfig.json'), '{}');
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n');

  it('builds the first time, then not again while nothing changed', () => {
    const first = build('--if-stale');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.tscRuns, 1);
    assert.match(first.stderr, /first run/);
    const second = build('--if-stale');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.tscRuns, 1, 'rebuilt although no source changed');
  });

  it('rebuilds after a source file changed; plain build always builds', () => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'src', 'a.ts'), later, later);
    const r = build('--if-stale');
    assert.equal(r.tscRuns, 2);
    assert.match(r.stderr, /sources changed/);
    assert.equal(build().tscRuns, 3);
  });

  it('a failed build does not count as built: the next start tries again, and the failure says what to do', () => {
    writeFileSync(join(root, 'src', 'broken.ts'), 'x');
    const later = new Date(Date.now() + 10_000);
    utimesSync(join(root, 'src', 'broken.ts'), later, later);
    const failed = build('--if-stale');
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, /build failed .* fix the error/);
    rmSync(join(root, 'src', 'broken.ts'));
    const again = build('--if-stale');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.tscRuns, 5);
  });

  it('rebuilds when node changed since the last build (its code cache for ssh2 would be rejected)', () => {
    const stampFile = join(root, 'dist', '.build-stamp.json');
    // The tests before left sources dated in the future: date them back, so only node's change is new.
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src', 'a.ts'), past, past);
    utimesSync(join(root, 'src'), past, past);
    const before = build('--if-stale').tscRuns;
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { startedAt: number; node: string };
    assert.equal(stamp.node, process.version);
    writeFileSync(stampFile, JSON.stringify({ ...stamp, node: 'v0.0.0' }));
    const r = build('--if-stale');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.tscRuns, before + 1);
    assert.match(r.stderr, /node changed \(v0\.0\.0 → v\d+/);
    // Built without esbuild (this scratch checkout has none): said, and ssh2 then loads from the package.
    assert.match(r.stderr, /ssh2 bundle skipped: esbuild is not installed/);
    assert.equal(build('--if-stale').tscRuns, before + 1, 'rebuilt again with the same node');
  });
});
