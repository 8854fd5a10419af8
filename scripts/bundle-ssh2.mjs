// Part of the build (build.mjs calls it after tsc): bundles ssh2's client into
// dist/vendor/ssh2-client.cjs and records V8's code cache for it after a
// handshake (train-ssh2-cache.mjs), which src/remote/ssh2-client.ts loads.
// Why: `lbcheck run` loads ssh2 on its critical path (~45 ms from the package,
// ~20 from the bundle with its cache). Without esbuild (a build from a
// checkout without dev dependencies) the bundle is left out and ssh2 loads
// from the package: slower, nothing else changes. Plain JavaScript, as build.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The bundle's require of a file outside it (ssh2's optional native crypto), relative to the bundle. */
function requirePathFrom(outDir, file) {
  const rel = relative(outDir, file).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** ssh2's native parts stay outside the bundle, each loaded where npm installed (and built) it. */
function nativeStaysOutside(outDir) {
  return {
    name: 'native-stays-outside',
    setup(build) {
      build.onResolve({ filter: /\.node$/ }, (args) => ({
        path: requirePathFrom(outDir, resolve(args.resolveDir, args.path)),
        external: true,
      }));
      build.onResolve({ filter: /^cpu-features$/ }, () => ({ path: 'cpu-features', external: true }));
    },
  };
}

/** Builds the bundle and its code cache under root/dist/vendor; returns what it did, for the build's output. */
export async function bundleSsh2(root) {
  const outDir = join(root, 'dist', 'vendor');
  const bundle = join(outDir, 'ssh2-client.cjs');
  // A stale bundle must not outlive the ssh2 it came from.
  rmSync(outDir, { recursive: true, force: true });
  const requireHere = createRequire(join(root, 'package.json'));
  let esbuild;
  try {
    esbuild = requireHere('esbuild');
  } catch {
    return 'ssh2 bundle skipped: esbuild is not installed (npm ci installs it); ssh2 loads from node_modules';
  }
  const ssh2Version = requireHere('ssh2/package.json').version;
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    stdin: { contents: "module.exports = require('ssh2/lib/client.js');", resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    banner: { js: `// ssh2 ${ssh2Version}'s client, bundled by scripts/bundle-ssh2.mjs. Generated: do not edit.` },
    plugins: [nativeStaysOutside(outDir)],
    logLevel: 'error',
  });
  const train = spawnSync(process.execPath, [join(here, 'train-ssh2-cache.mjs'), root], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (train.status !== 0) {
    return `ssh2 bundled without a code cache (training failed: ${(train.stderr || train.error?.message || '').trim()})`;
  }
  return existsSync(`${bundle}.v8-cache`) ? '' : 'ssh2 bundled, but training wrote no code cache';
}
