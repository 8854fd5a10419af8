// Loads ssh2's Client. A one-shot `lbcheck run` loads it on its critical path (the LB's login shells cannot start
// before the SSH handshake, and the handshake cannot start before ssh2 is loaded): from the package that is ~45 ms
// on a small VM (ssh2's index also loads its server, agents and HTTP agents, ~35 files, all compiled from source).
// The build (scripts/bundle-ssh2.mjs) bundles only the client into one file and records V8's code cache for it
// after a handshake, so the functions a handshake needs arrive compiled: ~20 ms here, and a faster handshake. Both
// files sit in dist/, written by whoever built it and never by a run: a code cache is executable code, and it is
// trusted exactly as far as the JavaScript beside it. Without them (built without esbuild, or a cache that another
// node version recorded) the client still loads, from the bundle or the package, only slower.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type { Client } from 'ssh2';

export type SshClientClass = typeof Client;

/** Where the Client came from: the bundle with its code cache accepted, the bundle compiled afresh, the package. */
export type SshClientSource = 'bundle+code-cache' | 'bundle' | 'package';

export interface LoadedSshClient {
  Client: SshClientClass;
  source: SshClientSource;
  /** The bundle's compiled script: the build records its code cache after a handshake. */
  script?: Script;
}

export const SSH2_BUNDLE = fileURLToPath(new URL('../../vendor/ssh2-client.cjs', import.meta.url));
export const codeCacheFileOf = (bundle: string): string => `${bundle}.v8-cache`;

/** CommonJS's module wrapper: the bundle runs as require() would run it, under our Script to carry the cache. */
const wrap = (code: string): string => `(function (exports, require, module, __filename, __dirname) { ${code}\n})`;

function readIfPresent(file: string): Buffer | undefined {
  return existsSync(file) ? readFileSync(file) : undefined;
}

/** Runs the bundle (with its code cache when given one). */
export function loadBundledClient(bundle: string, cacheFile?: string): LoadedSshClient {
  const cachedData = cacheFile === undefined ? undefined : readIfPresent(cacheFile);
  const script = new Script(wrap(readFileSync(bundle, 'utf8')), {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  if (typeof module.exports !== 'function') throw new Error(`${bundle} does not export ssh2's Client`);
  const accepted = cachedData !== undefined && !script.cachedDataRejected;
  return { Client: module.exports as SshClientClass, source: accepted ? 'bundle+code-cache' : 'bundle', script };
}

/** The Client from the build's bundle when there is one, else from the package. */
export function loadSshClient(bundle = SSH2_BUNDLE): LoadedSshClient {
  if (existsSync(bundle)) return loadBundledClient(bundle, codeCacheFileOf(bundle));
  const ssh2 = createRequire(import.meta.url)('ssh2') as { Client: SshClientClass };
  return { Client: ssh2.Client, source: 'package' };
}
