// The vantage point's own tcpdump dies with the process that started it, even
// on kill -9 and with no packet arriving to hit the dead pipe. A real process
// (capture-holder) runs the capture; the test SIGKILLs it and watches tcpdump.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const holder = fileURLToPath(new URL('./capture-holder.js', import.meta.url));

/** Pids of live (not zombie) processes whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[1]) === ppid && fields[0] !== 'Z' ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the vantage-point capture', { timeout: 60_000 }, () => {
  it('tcpdump dies with its process on kill -9, though no packet arrives', async () => {
    assert.ok(existsSync('/proc/self/stat'), 'needs /proc');
    // A filter nothing matches: only the parent-death signal can end this tcpdump.
    const child = spawn(process.execPath, [holder, 'tcp port 9 and host 127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 15_000;
    while (!out.includes('capturing') && !out.includes('unavailable') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(out.trim(), 'capturing', 'tcpdump must run here (root, Debian package tcpdump)');
    const pid = child.pid ?? 0;
    const tcpdumps = childrenOf(pid).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('tcpdump'));
    assert.equal(tcpdumps.length, 1, `expected one tcpdump under ${pid}`);
    const tcpdump = tcpdumps[0] ?? 0;
    try {
      process.kill(pid, 'SIGKILL');
      await exited;
      const gone = Date.now() + 10_000;
      while (alive(tcpdump) && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
      assert.equal(alive(tcpdump), false, `tcpdump ${tcpdump} outlived its killed parent`);
    } finally {
      if (alive(tcpdump)) process.kill(tcpdump, 'SIGKILL');
    }
  });
});
