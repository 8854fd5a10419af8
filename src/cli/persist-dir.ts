// Where `lbcheck run --persist` finds the background process that keeps an
// LB's SSH session and captures between runs (persist-server.ts): a Unix
// socket in a directory only this user can enter, as OpenSSH's ControlPath.
// Whoever can connect to the socket runs checks with this user's SSH keys,
// so a directory that is not private, or not this user's, is not used.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a kept process must share with the run that asks it: the environment a check reads (the inventory, the
 * trust store, which tcpdump), and the build that runs it. A run with other values gets a process of its own.
 */
const ENVIRONMENT = ['PATH', 'HOME', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];

/** Why no kept process can be used: said on stderr, and the run goes on in its own process. */
export class PersistUnavailable extends Error {
  override name = 'PersistUnavailable';
}

/** The directory for this user's sockets: created private, and refused if anyone else could enter it. */
export function privateDir(base: string, uid: number): string {
  const dir = join(base, `lbcheck-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST')
      throw new PersistUnavailable(`cannot create ${dir} (${code ?? 'error'}): set XDG_RUNTIME_DIR`);
  }
  const st = lstatSync(dir);
  const elsewhere = 'or set XDG_RUNTIME_DIR to a directory of your own';
  if (!st.isDirectory()) throw new PersistUnavailable(`${dir} is not a directory (remove it, ${elsewhere})`);
  if (st.uid !== uid)
    throw new PersistUnavailable(
      `${dir} belongs to uid ${st.uid}, not to this user (${uid}): set XDG_RUNTIME_DIR to a directory of your own`,
    );
  if ((st.mode & 0o077) !== 0)
    throw new PersistUnavailable(
      `${dir} can be entered by others (mode ${(st.mode & 0o777).toString(8)}): chmod 700 ${dir}, ${elsewhere}`,
    );
  return dir;
}

/** The build that runs the check: a rebuilt lbcheck gets a new kept process, never the old code. */
function buildStamp(): string {
  const self = fileURLToPath(import.meta.url);
  return `${self}@${statSync(self).mtimeMs}`;
}

/** The socket for this user, environment and build (a short name: a socket path has at most 107 bytes). */
export function persistSocket(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_RUNTIME_DIR ?? tmpdir();
  const uid = userInfo().uid;
  const relevant = Object.keys(env)
    .filter((k) => (k.startsWith('LBCHECK_') && k !== 'LBCHECK_PERSIST') || ENVIRONMENT.includes(k))
    .sort()
    .map((k) => `${k}=${env[k] ?? ''}`);
  const key = createHash('sha256')
    .update([buildStamp(), ...relevant].join('\0'))
    .digest('hex')
    .slice(0, 16);
  return join(privateDir(base, uid), `run-${key}.sock`);
}
