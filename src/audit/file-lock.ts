// A lock file shared by every process that appends to the audit log (two bot
// processes may run at once). Created with O_EXCL and naming its holder (pid,
// the pid's start time, host). It is broken only when the holder is provably
// gone: same host, and that pid is not running or is another process now. A
// live holder's lock is never broken, however long it takes; a waiter gives up
// with an error that says who holds it.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

interface Holder {
  pid: number;
  host: string;
  /** /proc/<pid>/stat start time: tells a pid reused by another process from the holder. */
  start?: string;
}

export class AuditLockBusyError extends Error {
  override name = 'AuditLockBusyError';
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    // Older lbcheck versions wrote the bare pid.
    if (/^\d+$/.test(text)) return { pid: Number(text), host: hostname() };
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string'
      ? { pid: h.pid, host: h.host, ...(typeof h.start === 'string' ? { start: h.start } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** 'gone' only when certain; a holder on another host, or a lock being written right now, is 'alive'. */
function holderState(path: string, ageMs: number): 'alive' | 'gone' {
  const h = readHolder(path);
  // Empty or unreadable: its creator is between open and write, or died there; only a dead one takes this long.
  if (!h) return ageMs > 10_000 ? 'gone' : 'alive';
  if (h.host !== hostname()) return 'alive';
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  const start = h.start !== undefined ? processStart(h.pid) : undefined;
  if (start !== undefined && start !== h.start) return 'gone';
  return 'alive';
}

function readContent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function describeHolder(path: string): string {
  const h = readHolder(path);
  return h ? `process ${h.pid} on ${h.host}` : 'a process that is writing it';
}

export async function withFileLock<T>(
  path: string,
  fn: () => T | Promise<T>,
  opts: { waitMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 30_000);
  const start = processStart(process.pid);
  const me: Holder = { pid: process.pid, host: hostname(), ...(start !== undefined ? { start } : {}) };
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      const seen = readContent(path);
      if (holderState(path, age) === 'gone') {
        // Only the lock just judged: another waiter may have broken it and taken a fresh one meanwhile.
        if (readContent(path) === seen) rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new AuditLockBusyError(
          `the audit log lock ${path} is held by ${describeHolder(path)}; ` +
            'wait for it, or if that process is gone, remove the lock file',
        );
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
