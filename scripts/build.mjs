// Builds dist/ with tsc, and with --if-stale only when a source changed since
// the last successful build. `npm start`, `npm run demo` and `npm run bench`
// use --if-stale, so starting does not pay ~20 s of tsc every time; `npm ci`
// builds once through `prepare`. Staleness is a stat of each source file
// against a stamp written after a successful build (a few milliseconds).
// Plain JavaScript: it must run before anything is compiled.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleSsh2 } from './bundle-ssh2.mjs';

// LBCHECK_BUILD_ROOT: another checkout (the build's own test uses a scratch one).
const root = process.env.LBCHECK_BUILD_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const stampFile = join(root, 'dist', '.build-stamp.json');
const SOURCE_DIRS = ['src', 'adapters', 'workers', 'test'];
const SOURCE_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];

/** Newest modification time (ms) of anything tsc compiles or depends on. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
      // A deleted file shows only as its directory's change.
      newest = Math.max(newest, st.mtimeMs);
    } else if (/\.(ts|json)$/.test(path)) newest = Math.max(newest, st.mtimeMs);
  };
  for (const d of SOURCE_DIRS) visit(join(root, d));
  for (const f of SOURCE_FILES) visit(join(root, f));
  return newest;
}

/** The last successful build: when it started, and with which node. */
function stamp() {
  try {
    const parsed = JSON.parse(readFileSync(stampFile, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined; // never built, or built by something else: build
  }
}

const ifStale = process.argv.includes('--if-stale');
const built = stamp();
// Another node rejects the ssh2 bundle's code cache (bundle-ssh2.mjs): it is recorded again.
const otherNode = built !== undefined && built.node !== process.version;
if (ifStale && built !== undefined && !otherNode && newestSource() < built.startedAt) process.exit(0);

// The start time goes into the stamp: a file saved while tsc runs is newer, so it is rebuilt next time.
const startedAt = Date.now();
if (ifStale)
  console.error(
    built === undefined
      ? 'lbcheck: building dist/ (first run)…'
      : otherNode
        ? `lbcheck: node changed (${built.node ?? 'unknown'} → ${process.version}), rebuilding dist/…`
        : 'lbcheck: sources changed, rebuilding dist/…',
  );
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'lbcheck: the TypeScript build failed (see above); fix the error, or run `npm ci` if node_modules is missing',
  );
  process.exit(r.status ?? 1);
}
chmodSync(join(root, 'dist', 'adapters', 'lbcheck.js'), 0o755);
const bundled = await bundleSsh2(root);
if (bundled) console.error(`lbcheck: ${bundled}`);
writeFileSync(stampFile, `${JSON.stringify({ startedAt, node: process.version })}\n`);
