// Synchronous teardown, so it can also run from a process 'exit' handler and
// when a later run reaps a dead run's leftovers. Order matters: processes in
// the namespaces first (a namespace with a live process outlives its name),
// then the namespaces (which takes their veths along), then the root link.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

export interface TeardownTarget {
  namespaces: string[];
  rootLink: string;
  tempDir: string;
  pids: number[];
}

function namespacePids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  if (out.status !== 0) return [];
  return out.stdout
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A zombie counts as gone: it holds no namespace, and its parent reaps it later. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function waitGone(pids: number[], withinMs: number): void {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline && pids.some(running)) {
    spawnSync('sleep', ['0.02']);
  }
}

/**
 * Rules a fault put in this host's OUTPUT chain (faults.blockHere) match the lab's link by name; a run that died
 * with one applied leaves it inert (its link is gone), and this removes it. Written without quotes, so each line
 * of `iptables -S` splits back into its arguments.
 */
function purgeRootRules(rootLink: string): void {
  const listed = spawnSync('iptables', ['-w', '-S', 'OUTPUT'], { encoding: 'utf8' });
  if (listed.status !== 0) return;
  for (const line of listed.stdout.split('\n')) {
    const args = line.trim().split(/\s+/);
    if (args[0] !== '-A' || !line.includes(` -o ${rootLink} `)) continue;
    spawnSync('iptables', ['-w', '-D', ...args.slice(1)], { stdio: 'ignore' });
  }
}

export function teardownSync(target: TeardownTarget): void {
  const pids = [...target.pids, ...target.namespaces.flatMap(namespacePids)];
  killAll(pids);
  waitGone(pids, 3000);
  for (const ns of target.namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  if (target.rootLink !== '') {
    purgeRootRules(target.rootLink);
    spawnSync('ip', ['link', 'del', target.rootLink], { stdio: 'ignore' });
  }
  if (target.tempDir !== '') rmSync(target.tempDir, { recursive: true, force: true });
}
