// The client side of `lbcheck run --persist`: hands the run to this user's
// kept process (persist-server.ts) and relays its output, or, when none is
// running, starts one for the next run and lets this run go on in its own
// process (starting it first and waiting would only make this run slower).
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PersistUnavailable, persistSocket } from './persist-dir.js';
import { line, LineReader, type PersistAnswer } from './persist-protocol.js';
import type { RunOutput } from './run-output.js';

const PERSIST_MAIN = fileURLToPath(new URL('./persist-main.js', import.meta.url));

type Outcome = { code: number } | { here: 'absent' | 'busy' | 'ended' } | { unreachable: string };

/** Starts the kept process, detached from this terminal; it removes itself after its idle time. */
function startKept(socket: string, seconds: number, out: RunOutput): void {
  const child = spawn(process.execPath, [PERSIST_MAIN, socket, String(seconds)], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  // A process that could not start says nothing more: this run goes on, and the next one tries again.
  child.on('error', () => undefined);
  child.unref();
  if (child.pid === undefined) return;
  out.stderr(
    `lbcheck: started a background process (pid ${child.pid}) that keeps LB sessions and captures for the next ` +
      `runs with --persist, until ${seconds} s after the last check; kill ${child.pid} ends it now\n`,
  );
}

/** One run through the kept process: its output relayed as it comes, and its exit code. */
function askKept(socket: string, args: string[], seconds: number, out: RunOutput): Promise<Outcome> {
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    const reader = new LineReader();
    let outcome: Outcome | undefined;
    let answered = false;
    const onAnswer = (a: PersistAnswer): void => {
      answered = true;
      if ('stdout' in a) out.stdout(a.stdout);
      else if ('stderr' in a) out.stderr(a.stderr);
      else outcome ??= 'exit' in a ? { code: a.exit } : { here: 'busy' };
    };
    conn.on('connect', () => conn.write(line({ args, cwd: process.cwd(), persistSeconds: seconds })));
    conn.on('data', (chunk: Buffer) => {
      try {
        for (const l of reader.push(chunk)) onAnswer(JSON.parse(l) as PersistAnswer);
      } catch {
        // Not the kept process's protocol (it cannot be another user's: the directory is private).
        outcome ??= { here: 'ended' };
        conn.destroy();
      }
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') outcome ??= { here: 'absent' };
      else outcome ??= answered ? { here: 'ended' } : { unreachable: err.code ?? err.message };
    });
    conn.on('close', () => resolve(outcome ?? { here: answered ? 'ended' : 'absent' }));
  });
}

/**
 * The exit code of the run done by the kept process, or undefined when this process must run the check itself:
 * none was running (one is started for the next run), it was busy with another run, or it cannot be used (why is
 * said on stderr).
 */
export async function runPersisted(args: string[], seconds: number, out: RunOutput): Promise<number | undefined> {
  let socket: string;
  try {
    socket = persistSocket();
  } catch (err) {
    if (!(err instanceof PersistUnavailable)) throw err;
    out.stderr(`lbcheck: --persist not used: ${err.message}; the check runs in this process\n`);
    return undefined;
  }
  const outcome = await askKept(socket, args, seconds, out);
  if ('code' in outcome) return outcome.code;
  if ('unreachable' in outcome) {
    out.stderr(`lbcheck: --persist not used: ${socket} did not answer (${outcome.unreachable}); the check runs here\n`);
    return undefined;
  }
  if (outcome.here === 'absent') startKept(socket, seconds, out);
  if (outcome.here === 'ended')
    out.stderr('lbcheck: the background process ended before the check did; running the check in this process\n');
  return undefined;
}
